"""Every write of the traffic app, one module per domain. Each service audits by id, never with
numbers or names; callers import the submodule they need.

- `sources`: declare and change the switches that send CDRs (format, time zone, country).
- `imports`: CDR file imports: upload and queue, run, re-run a failed one, reap dead runs, re-queue
  stalled ones, delete stored uploads nothing will read any more.
- `rating`: price the calls left pending or unrated (after tariffs were added).
- `tariffs`: add and end tariffs, plan and apply a rate deck; audited, each queues the re-rating.
- `invoices`: the monthly invoice run and one service per invoice state transition.
- `partitions`: create the coming months' CDR partitions ahead of the rows.
- `call_exports`: a customer's CSV file of own calls, too big for a web request: ask for it, write it
  (the task), reap dead runs, re-queue unsent ones, delete expired files.
- `call_setup`: click-to-call: number to E.164, blocked prefixes, rate limit, audit, ask the switch
  (`traffic.callsetup`); the blocked prefixes billing staff keep; the 30-day purge of set-up records.
- `annotations`: the DPO's note on a call (GDPR art. 16: a call is never changed, what the customer
  states is attached to it), and the removal of notes with their calls (purge, erasure).

The month data keys (create, destroy, re-wrap) live in `traffic.keys`; the ingest pipeline that
stores the rows of an import lives in `traffic.ingest`.
"""
