"""The daily purge, split by concern. Start at run.py: its header says why the design is safe.

- run.py     the run: `purge_expired` (lease, run row, receipts, audit entry) loops over STEPS, named
             step functions sharing one PurgeContext; `purge_daily` for beat; `purge_receipt_dict`.
- rules.py   which rows are expired and which stay: cutoffs from the policies, settled and protected
             invoices, legal holds, `PURGE_ACTOR`.
- lock.py    the lease that keeps two purges from running at once (`PurgeBusy`).
- chunks.py  batched deletes, one transaction per batch, and commits without a flush wait.
- months.py  whole months on PostgreSQL: copy what stays to the hold table, detach and drop the
             partitions, and the expired months whose data key may be destroyed.
"""
