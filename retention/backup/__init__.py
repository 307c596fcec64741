"""Backups and restore (`manage.py backup_create`, `manage.py backup_restore`, `make backup`), built so
that crypto-shredding holds for backups too: a month whose data key the purge destroyed stays
unreadable in every restored backup, however old the backup.

A backup is three things kept apart:
- a directory per backup (`--out`): the database (pg_dump custom format, or a copy of the SQLite
  file) WITHOUT the rows of the month-key table, PRIVATE_FILES_DIR as one encrypted tar, and a
  manifest with SHA-256 sums, sealed under the master key;
- the month-key backup (BACKUP_KEYS_FILE): the month data keys and the list of erasures done, in one
  file that is replaced after every backup, every change of a month key (a purge destroying one) and
  every erasure, never added to;
- the master keys (SECRET_KEY, FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY): in no backup at all; they stay in
  the deployment's secret store.

Modules:
- `keyfile`: the month-key backup: take it, read it, load it into a restored database, and re-take
  it when a month key changes (a post_save receiver, connected by retention/apps.py).
- `erasures`: the erasures in the key backup, and their replay into a restored database.
- `database`: dump and restore of the database (pg_dump/pg_restore, or the SQLite file).
- `archive`: PRIVATE_FILES_DIR packed into and unpacked from one encrypted tar.
- `run`: a whole backup and a whole restore, and the manifest that ties a backup's files together.
"""
