"""The daily purge, split by concern. Start at run.py: its header says why the design is safe.

- run.py     the run: `purge_expired` loops over STEPS, named step functions sharing one PurgeContext;
             `purge_daily` for beat.
- runs.py    the run rows and receipts: a run starts (taking the lease, failing the runs whose worker
             died), writes its receipts as it goes and ends done or failed; `purge_runs_reap` for beat;
             `purge_receipt_dict`.
- rules.py   which rows are expired and which stay: cutoffs from the policies, settled and protected
             invoices, legal holds, `PURGE_ACTOR`.
- lock.py    the lease that keeps two purges from running at once and runs out minutes after a killed
             purge's last batch (`PurgeBusy`, `PurgeLeaseLost`, PURGE_LEASE_SECONDS).
- chunks.py  batched deletes, one transaction per batch, and commits without a flush wait.
- months.py  whole months on PostgreSQL: copy what stays to the hold table, detach the partitions and
             destroy the month's key in one transaction (the shred), drop the detached tables later
             (the reclaim), and the batch-emptied months whose data key may be destroyed.
"""
