"""Test data and beat's periodic work for the fault tests, run in a process of the app under test.

`python -m tests.faults.world ACTION '{"json": "kwargs"}'` runs one action below and prints its result
as the line `WORLD <json>`; `python -m tests.faults.world --manage ARGS` runs `manage.py ARGS`.

With VOIPXS_FAULTS_LATER=<seconds> the process's clock (django.utils.timezone.now, read by every
service, lease and reaper) runs that far ahead: "beat's reaper, ten minutes later" without waiting ten
minutes. It is moved before Django loads, so every module that imports `now` gets the moved clock.
"""
from __future__ import annotations

# ruff: noqa: E402  (the clock is moved before Django and the app's modules are imported)
import json
import os
import re
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import django
import django.utils.timezone

LATER = float(os.environ.get("VOIPXS_FAULTS_LATER") or 0)
if LATER:
    _real_now = django.utils.timezone.now

    def _later_now() -> datetime:
        return _real_now() + timedelta(seconds=LATER)

    django.utils.timezone.now = _later_now

django.setup()

from django.test import Client
from django.utils.timezone import now
from knox.models import AuthToken

from tests.factories import PASSWORD, make_user, verified_client
from traffic.ingest.rows import CdrRecord
from traffic.ingest.run import cdr_rows_write
from traffic.models import Invoice, Source
from voipxs.privacy.purposes import Role


def _signed_in(user, *, session: bool = False) -> dict:
    """An API token (as POST /api/v1/auth/login/ issues one, after the second factor for staff) and,
    with `session`, a signed-in (and, for staff, verified) session cookie for the pages."""
    _instance, token = AuthToken.objects.create(user=user)
    out = {"id": user.pk, "username": user.username, "password": PASSWORD, "token": token}
    if session:
        client = verified_client(Client(), user)
        out["session"] = client.cookies["sessionid"].value
    return out


def people(*, prefix: str, number: str, calls: int = 0) -> dict:
    """A customer holding `number` with `calls` calls of the last days, a billing clerk (with TOTP),
    each signed in, and a CDR source `<prefix>-pbx` (Asterisk CSV)."""
    from traffic.services.sources import source_create

    customer = make_user(f"{prefix}-customer", numbers=[number])
    billing = make_user(f"{prefix}-billing", roles=(Role.BILLING,), totp=True)
    src = source_create(name=f"{prefix}-pbx", format="asterisk-csv", timezone="Europe/Amsterdam")
    if calls:
        first = now() - timedelta(hours=2)
        records = _records(prefix=f"{prefix}-call", account_id=customer.pk, number=number, rating="rated",
                           times=[first - timedelta(minutes=37 * i) for i in range(calls)])
        assert cdr_rows_write(source=src, records=records).imported == calls
    return {"customer": {**_signed_in(customer, session=True), "number": number},
            "billing": _signed_in(billing, session=True), "source": {"id": src.pk, "name": src.name}}


def _records(*, prefix: str, account_id: int, number: str, times: list[datetime], technical: bool = False,
             rating: str = "free") -> list[CdrRecord]:
    return [CdrRecord(
        unique_id=f"{prefix}-{i}", fingerprint=f"{prefix}-{i}"[-16:], started_at=at, src=number, dst=f"+316{i:08d}",
        account_id=account_id, contractor_id=None, direction="out", disposition="answered", answered_at=at,
        duration=65, billsec=60, caller_name="", rating=rating, zone="NL mobile" if rating == "rated" else "",
        price=Decimal("0.05") if rating == "rated" else None, technical={"ip": "192.0.2.7"} if technical else None,
    ) for i, at in enumerate(times)]


def purge_world(*, prefix: str, number: str) -> dict:
    """Data for a purge with every kind of step to do (see tests/faults/test_postgres_restart.py):
    month A, wholly expired: dropped as a whole (its call on an open invoice copied to the hold table);
    month B, expired but kept from a drop by an invoice still inside its dispute window: its free calls
    go in batches, the invoice's calls stay; an invoice of eight years ago: deleted by the invoice step;
    recent calls: kept."""
    from retention.purge.rules import Cutoffs
    from traffic.partitions import add_months, month_start

    customer = make_user(f"{prefix}-customer", numbers=[number])
    src = Source.objects.create(name=f"{prefix}-pbx", format="asterisk-csv", timezone="Europe/Amsterdam")
    cutoffs = Cutoffs.at(now())
    first_kept_month = month_start(min(cutoffs.unbilled, cutoffs.technical))
    month_a, month_b = add_months(first_kept_month, -2), add_months(first_kept_month, -1)

    def at(month: date, day: int, minute: int = 0) -> datetime:
        return datetime(month.year, month.month, day, 10, tzinfo=UTC) + timedelta(minutes=minute)

    def invoice(period: date, status: str, window_ends: date, issued_at: datetime) -> Invoice:
        return Invoice.objects.create(
            number=f"{prefix}-{period:%Y%m}-{status}", account=customer, period=period, issued_at=issued_at,
            due_date=period + timedelta(days=60), dispute_window_ends=window_ends, status=status,
            paid_at=issued_at + timedelta(days=10) if status == "paid" else None)

    open_a = invoice(month_a, "open", add_months(month_a, 2), at(add_months(month_a, 1), 2))  # unpaid, window over
    paid_b = invoice(month_b, "paid", (now() + timedelta(days=60)).date(), at(add_months(month_b, 1), 2))
    eight_years_ago = now().year - 8
    ancient = invoice(date(eight_years_ago, 1, 1), "paid", date(eight_years_ago, 8, 1),
                      datetime(eight_years_ago, 2, 2, tzinfo=UTC))
    groups = {
        "a_free": _records(prefix=f"{prefix}-a", account_id=customer.pk, number=number, technical=True,
                           times=[at(month_a, 3, 10 * i) for i in range(10)]),
        "a_open": _records(prefix=f"{prefix}-ao", account_id=customer.pk, number=number, rating="rated",
                           times=[at(month_a, 5)]),
        "b_free": _records(prefix=f"{prefix}-b", account_id=customer.pk, number=number, technical=True,
                           times=[at(month_b, 3, 10 * i) for i in range(60)]),
        "b_paid": _records(prefix=f"{prefix}-bp", account_id=customer.pk, number=number, rating="rated",
                           times=[at(month_b, 6, 10 * i) for i in range(2)]),
        "recent": _records(prefix=f"{prefix}-r", account_id=customer.pk, number=number, technical=True,
                           times=[now() - timedelta(days=1, minutes=10 * i) for i in range(3)]),
    }
    ids = {}
    for name, records in groups.items():
        assert cdr_rows_write(source=src, records=records).imported == len(records)
        ids[name] = _ids(src, records)
    _attach(ids["a_open"], open_a)
    _attach(ids["b_paid"], paid_b)
    return {"ids": ids, "month_a": month_a.isoformat(), "month_b": month_b.isoformat(),
            "invoices": {"open_a": open_a.pk, "paid_b": paid_b.pk, "ancient": ancient.pk}}


def _ids(src: Source, records: list[CdrRecord]) -> list[int]:
    from traffic.models import Cdr

    uids = [r.unique_id for r in records]
    return list(Cdr.objects.filter(source=src, unique_id__in=uids).values_list("id", flat=True))


def _attach(ids: list[int], invoice: Invoice) -> None:
    from traffic.models import Cdr

    Cdr.objects.filter(id__in=ids).update(invoice=invoice)


def disclosure(*, prefix: str, number: str) -> dict:
    """A disclosure request for `number`'s traffic, approved by two officers and ready to produce;
    the intake officer is signed in (token)."""
    from disclosures.models import AuthorityKind
    from disclosures.services.authorities import authority_create, authority_verify
    from tests.disclosures.conftest import receive, to_state

    officers = [make_user(f"{prefix}-legal{i}", roles=(Role.LEGAL_OFFICER,), totp=True) for i in (1, 2, 3)]
    registered = authority_create(actor=officers[0], name=f"Politie {prefix}", kind=AuthorityKind.POLICE,
                                  contact_phone="020 555 9999", contact_email="desk@politie.example")
    authority = authority_verify(actor=officers[1], authority=registered, note="checked against the official register")
    req = to_state(receive(officers[0], authority, numbers=(number,), reference=f"{prefix}-REF"), "approved",
                   intake=officers[0], approvers=officers[1:])
    return {"request": req.pk, "status": req.status, "officer": _signed_in(officers[0])}


def reap() -> dict:
    """What beat runs every few minutes to recover work: every task of CELERY_BEAT_SCHEDULE whose
    name says it reaps or re-queues, called here in this process (their re-sent tasks go to the broker)."""
    from django.conf import settings

    from voipxs.celery import app

    app.loader.import_default_modules()
    names = sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
                    if re.search(r"reap|requeue|resend|recover", entry["task"])})
    return {name: app.tasks[name]() for name in names}


ACTIONS = {f.__name__: f for f in (people, purge_world, disclosure, reap)}


def main() -> None:
    if sys.argv[1] == "--manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", *sys.argv[2:]])
        return
    kwargs = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    result = ACTIONS[sys.argv[1]](**kwargs)
    print("WORLD " + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
