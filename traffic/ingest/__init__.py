"""CDR ingest: parse → normalise → rate → encrypt → store, streaming, at COPY speed.

The pipeline, one module per step (callers import the module they need, nothing is re-exported here):
- `spool`: an upload or stream copied to a private file, with its SHA-256.
- `run`: `run_import` reads a file with the source's parser (traffic/importers) and feeds each record
  through the preparer into a writer, batch by batch, under the source's lock, renewing the import's
  lease; `cdr_rows_write` stores records that are already decided (demo data, test factories) through
  the same builder and writers; `records_write` stores parsed records that come from no file (a push,
  traffic/push) through the same preparer and writers, in the caller's transaction. Also the import's totals, heartbeat and undo.
- `parallel`: a large CSV file cut into chunks at record boundaries and prepared by a pool of forked
  processes (parse, prepare, encrypt, COPY text), fed in file order to the same writer: the same rows,
  rejects and counts as preparing it in one process, on every core.
- `prepare`: `RowPreparer`, a parser's record → a prepared row: times in UTC, numbers in E.164,
  the account that held our number at that moment, the price of the call.
- `rows`: `RowBuilder.build`, the one place a CDR is encrypted (under its month's key), indexed and
  laid out as a row tuple; `CdrRecord`; the row layout and the flags this layer adds.
- `month_crypto`: AES-GCM under a month's data key, with nonces drawn in blocks.
- `copy_text`: prepared rows as PostgreSQL COPY text, with ids reserved from the table's sequence.
- `writers`: prepared rows into the tables, deduplicated on (source, unique_id, leg): COPY on PostgreSQL
  (in a writer thread when it can be), executemany on SQLite.

Why it is shaped like this (DESIGN.md "Costs to design for"):
- Each distinct number is normalised to E.164 and blind-indexed once per import (dict caches);
  each value is still encrypted per row, because AES-GCM needs a fresh nonce for every value.
- No model instances: rows are tuples, turned into COPY text (PostgreSQL) or executemany
  parameters (SQLite) by the writer. Everything above the writer is the same code on both.
- Batches are written in one transaction each, so a crash loses at most the batch in flight and a
  re-run completes the file (the dedupe key makes re-runs idempotent).
- One row never stops the file: a row that cannot be stored (a NUL byte or a lone surrogate in a call
  id, seconds beyond the column) is rejected alone with its line, by `rows` before the writer or by
  the writer, which halves a batch the database refuses down to the rows it refuses. A file none of
  whose first rows is a CDR is refused whole (`run`), as is one that is no text at all (importers.sniff).
- On PostgreSQL, when the import does not run inside someone else's transaction, a writer thread
  with its own connection COPYs batch N while this thread prepares batch N+1 (psycopg2 releases
  the GIL while PostgreSQL ingests).
"""
