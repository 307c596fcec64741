"""Reads of a restored database in a fresh process, for tests/retention/test_backup_restore.py:

    python -m tests.retention.backup_child read <username> <cdr id>...
    python -m tests.retention.backup_child purge <username> <cdr id>...

against DATABASE_URL (the restored database). Prints one JSON object: for each CDR id whether its row
is there, its source number's ciphertext, what decrypting its source number gives (the number, or the error's class name), and
what the customer's own call page (traffic.selectors.calls.cdr_list) shows for it. `purge` first runs
`manage.py purge_expired`, the restore procedure's step before the app serves.

A process of its own, as after a real restore: nothing cached from the database the backup was taken
from (unwrapped month keys are cached per process).
"""
from __future__ import annotations

import json
import os
import sys

import django


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voipxs.settings_test")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from traffic.keys import decrypt_number
    from traffic.models import Cdr
    from traffic.selectors.calls import cdr_list
    from voipxs.privacy.crypto import DecryptionError

    action, username, ids = argv[0], argv[1], [int(i) for i in argv[2:]]
    if action == "purge":
        call_command("purge_expired", stdout=sys.stderr)
    customer = get_user_model().objects.get(username=username)
    page = {row.id: [row.own_number, row.other_number] for row in
            cdr_list(actor=customer, purpose="self_service", account=customer, limit=200).rows}
    report = {}
    for cdr_id in ids:
        cdr = Cdr.objects.filter(id=cdr_id).first()
        if cdr is None:
            report[cdr_id] = {"row": False, "token": None, "decrypt": None, "page": page.get(cdr_id)}
            continue
        try:
            decrypted = decrypt_number(cdr.src_enc, started_at=cdr.started_at)
        except DecryptionError as exc:
            decrypted = type(exc).__name__
        report[cdr_id] = {"row": True, "token": bytes(cdr.src_enc).hex(), "decrypt": decrypted, "page": page.get(cdr_id)}
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
