"""Reads of a restored database in a fresh process, for tests/retention/test_erasure_restore.py:

    python -m tests.retention.erasure_child read '{"accounts": [..], "requests": [..], "invoices": [..], "cdrs": [..]}'
    python -m tests.retention.erasure_child again '{...}' FILE
    python -m tests.retention.erasure_child make '{"username": .., "email": .., "number": ..}'
    python -m tests.retention.erasure_child erase '{"account": ..}' FILE

against DATABASE_URL (the restored database). Prints one JSON object: each account's personal data as the
database holds it, whether each invoice and call is there and restricted, each erasure request's record (with
the recipients listed for it and those the DPO recorded as told, GDPR art. 19),
and the audit entries of erasures replayed and of the restore. `again` first replays the key file's erasures
of the key file FILE a second time (retention.backup.erasures.erasures_replay, as a second restore would) and
reports its counts. `make` makes a customer and `erase` erases one, with FILE as BACKUP_KEYS_FILE (the key
backup taken again once the erasure commits), in a database a test uses as production
(test_restore_same_name.py); both seal the audit log, so its head witness follows.
"""
from __future__ import annotations

import json
import os
import sys

import django


def _account(account_id: int) -> dict:
    from accounts.models import PhoneNumber, User

    user = User.objects.get(pk=account_id)
    return {"username": user.username, "email": user.email, "anonymised": user.anonymised_at is not None,
            "active": user.is_active, "numbers": PhoneNumber.objects.filter(user=user).count(),
            "subscriber_details": user.subscriber_details.count()}


def _audit() -> dict:
    from voipxs.privacy.models import AuditEntry

    entries = AuditEntry.objects.filter(action__in=["dsr.erase_replayed", "dsr.recipient_notified_replayed",
                                                       "backup.restore"]).order_by("pk")
    return {"entries": [{"action": e.action, "actor": e.actor, "purpose": e.purpose, "target_id": e.target_id,
                         "extra": e.extra} for e in entries]}


def _request(request_id: int) -> dict | None:
    from accounts.dsr.models import DataSubjectRequest, RecipientNotification

    request = DataSubjectRequest.objects.filter(pk=request_id).first()
    return None if request is None else {
        "user": request.user_id, "kind": request.kind, "status": request.status, "answer": request.answer,
        "received_at": request.received_at.isoformat(), "completed_at": request.completed_at.isoformat(),
        "kept": [k["category"] for k in request.outcome.get("kept", [])],
        "replayed": request.outcome.get("replayed_after_restore"),
        # GDPR art. 19: the recipients listed for the DPO to tell, and whether they were
        "recipients": [[n.recipient_key, n.recipient, n.notified_on is not None]
                       for n in RecipientNotification.objects.filter(request=request).order_by("recipient_key")],
        # and for those told: the day, the way and the staff member's id the DPO recorded
        "notified": [[n.recipient_key, n.notified_on.isoformat(), n.how, n.recorded_by_id]
                     for n in RecipientNotification.objects.filter(request=request, notified_on__isnull=False)
                     .order_by("recipient_key")]}


def snapshot(spec: dict) -> dict:
    """The accounts, requests, invoices and calls of `spec` as this database holds them (also read in the test's
    own process, to compare the restored database with the one the erasure was done in)."""
    from traffic.models import Cdr, Invoice

    return {
        "accounts": {str(i): _account(i) for i in spec["accounts"]},
        "requests": {str(i): _request(i) for i in spec["requests"]},
        "invoices": {str(i): {"row": v is not None, "restricted": v is not None and v.restricted_at is not None}
                     for i, v in ((i, Invoice.objects.filter(pk=i).first()) for i in spec["invoices"])},
        "cdrs": {str(i): {"row": c is not None, "restricted": c is not None and c.restricted_at is not None}
                 for i, c in ((i, Cdr.objects.filter(pk=i).first()) for i in spec["cdrs"])},
    }


def _make_or_erase(action: str, spec: dict, argv: list[str]) -> dict:
    from django.conf import settings

    from accounts.dsr.services import dsr_request_create
    from accounts.models import User
    from tests.factories import PASSWORD, make_user
    from voipxs.privacy.audit import audit_seal_all

    if action == "make":
        done = {"account": make_user(spec["username"], numbers=[spec["number"]], email=spec["email"]).pk}
    else:
        settings.BACKUP_KEYS_FILE = argv[2]
        user = User.objects.get(pk=spec["account"])
        done = {"request": dsr_request_create(user=user, kind="erasure", password=PASSWORD).pk}
    audit_seal_all()
    return done


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voipxs.settings_test")
    django.setup()
    from pathlib import Path

    from django.db import transaction

    from retention.backup.erasures import erasures_replay
    from retention.backup.keyfile import month_keys_read

    action, spec = argv[0], json.loads(argv[1])
    report: dict = {}
    if action in ("make", "erase"):
        print(json.dumps(_make_or_erase(action, spec, argv)))
        return
    if action == "again":
        with transaction.atomic():
            report["again"] = erasures_replay(month_keys_read(Path(argv[2]))["erasures"], backup="again")
    print(json.dumps({**report, **snapshot(spec), **_audit()}))


if __name__ == "__main__":
    main(sys.argv[1:])
