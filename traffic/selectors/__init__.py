"""Every read of the traffic app, one module per domain; callers import the submodule they need.

- `calls`: the call history (own, a contractor's Users', an invoice's itemised bill), the CSV
  export's rows (and how many, up to a bound) and usage per month, purpose-bound and audited.
- `call_exports`: a customer's call exports (own only) and the download of their files, audited.
- `invoices`: invoices and their lines (aggregates, no numbers), and an invoice's PDF (audited).
- `tariffs`: the tariff list for billing staff (prices, no personal data).
- `interconnection`: answered calls per switch and carrier in a month (aggregates).
- `sources_imports`: CDR sources and import records, for the staff who run imports.
- `call_setup`: a user's own recent click-to-call set-ups, the blocked prefixes.
- `annotations`: the notes on calls, read with their calls (pages, API, data-subject export) and the
  DPO's list of a person's notes (audited).
- `admin_calls`: the staff admin's read-only pages of calls (and of the kept copies, for retention's admin):
  purpose checked before the read, each page recorded by the calls' ids.
- `scope`: which rows a purpose lets an actor read (own, own contractor's, staff-wide; restricted
  rows only for the law and disputes), shared by the call and invoice selectors.
- `cdr_reader`: the one reader of CDR rows (live calls and the copies a month drop kept, decrypted
  with each month's key once per read), used by `calls`, `traffic.sections` and the disclosures. It
  checks no purpose: its callers do.
"""
