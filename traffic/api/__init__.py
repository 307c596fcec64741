"""The traffic API (DRF), one module per domain: one APIView per operation, thin like the pages
(every read through `traffic.selectors`, every write through `traffic.services`).

- `calls`: own calls (JSON pages or CSV), usage per month, a contractor's Users' calls.
- `call_exports`: own call exports written in the background: ask for one, its status, its download.
- `invoices`: own invoices; billing staff's list and state transitions.
- `interconnection`: the monthly report per carrier and switch.
- `sources_imports`: CDR sources, uploads and import reports.
- `call_setup`: click-to-call set-up (the browser extension's token, or the portal's session).
- `permissions`: the role permissions the staff APIs share.
"""
