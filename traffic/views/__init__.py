"""Portal and staff pages (HTML), one module per domain; thin: forms in, every read through
`traffic.selectors`, every write through `traffic.services`, errors shown next to their field.

- `calls`: the call history, a contractor's Users' calls, the CSV export and the usage chart.
- `invoices`: a customer's invoices and itemised bill; billing staff's invoice list and actions.
- `interconnection`: the monthly report per carrier and switch (page and CSV).
- `sources_imports`: CDR sources, uploads and import reports, for billing staff and administrators.
- `access`: the role checks the staff pages share.
"""
