"""Portal and staff pages (HTML), one module per domain; thin: forms in, every read through
`traffic.selectors`, every write through `traffic.services`, errors shown next to their field.

- `calls`: the call history, a contractor's Users' calls and the usage chart.
- `call_exports`: the CSV export of own calls (streamed when small, else a task), its page and download.
- `invoices`: a customer's invoices and itemised bill; billing staff's invoice list and actions.
- `interconnection`: the monthly report per carrier and switch (page and CSV).
- `sources_imports`: CDR sources, uploads and import reports, for billing staff and administrators.
- `call_setup`: a customer's click-to-call tokens and recent set-ups; billing staff's blocked prefixes.
- `annotations`: the DPO's notes on a requester's calls (GDPR art. 16), a panel of the rectification
  request's page (accounts.dsr.panels) and its form, which asks first.
- `access`: the role checks the staff pages share.
"""
