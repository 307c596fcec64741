"""The world `bench.load` serves: customers with a year of calls and their invoices, signed in.

- N customers (role group "customer"), five numbers each (for the soak's imports to attribute calls to);
- 12 months of CDRs up to this month (`bench.portal.fill_month`: real AES-GCM tokens under each
  month's data key, so a page pays the real decryption), about 50 calls per customer and month;
- one invoice per customer and past month with three zone lines; the calls of that month point at it
  (the itemised bill, and what the purge reads): paid up to three months back, then one disputed in
  twenty and the rest open, the last month open;
- customers who joined two years ago, and a substantive privacy-policy change published a month ago
  that they have all seen (so every page asks for the notice as in production, and shows none);
- a web session (the `sessionid` cookie, made as Django's login makes it, through the configured
  session engine) and a knox API token for the first `signed_in` customers.

Django must be set up (the bench's production environment) before anything here is called.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from bench.load_http import Customer
from bench.portal import fill_month, seed_accounts

MONTHS = 12
NUMBERS_PER_ACCOUNT = 5
TARIFFS = [("31", "NL fixed", "0.02"), ("316", "NL mobile", "0.08"), ("3120", "NL Amsterdam", "0.015"),
           ("44", "UK", "0.05"), ("447", "UK mobile", "0.12"), ("49", "Germany", "0.04")]
INVOICE_ZONES = (("NL mobile", Decimal("0.60")), ("NL fixed", Decimal("0.25")), ("UK", Decimal("0.15")))


def own_number(i: int) -> str:
    """The i-th customer number, national format, as a switch writes it."""
    return f"0{20 + i % 60}{5_000_000 + i:07d}"


def world_seed(*, accounts: int, rows: int) -> None:
    """Customers, numbers, tariffs, a CDR source, 12 months of calls and their invoices."""
    from django.db import connection

    from traffic.models import Source
    from traffic.partitions import add_months, month_start

    started = time.perf_counter()
    account_ids = seed_accounts(accounts)
    _numbers_seed(account_ids)
    policy_seed(account_ids)
    _tariffs_seed()
    source = Source.objects.create(name="bench-load-pbx", format="asterisk-csv", carrier="bench trunk")
    first = add_months(month_start(datetime.now(timezone.utc)), -(MONTHS - 1))
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
    for i in range(MONTHS):
        month = add_months(first, i)
        fill_month(month=month, rows=rows // MONTHS, account_ids=account_ids, source_id=source.pk, seed=100 + i)
        if i < MONTHS - 1:
            _invoices_seed(month=month, account_ids=account_ids, age=MONTHS - 1 - i)
        print(f"  {month:%Y-%m}: {rows // MONTHS:,} calls", flush=True)
    with connection.cursor() as cursor:
        # The steady state of a live table (hint bits, visibility map, statistics).
        cursor.execute("VACUUM (ANALYZE) traffic_cdr")
        cursor.execute("VACUUM (ANALYZE) traffic_invoice")
        cursor.execute("SELECT setval('traffic_cdr_id_seq', (SELECT max(id) FROM traffic_cdr))")
    print(f"seeded {accounts:,} customers and {rows:,} calls in {time.perf_counter() - started:.0f} s", flush=True)


def _numbers_seed(account_ids: list[int]) -> None:
    from accounts.models import PhoneNumber
    from voipxs.privacy.phone import normalize_e164

    since = datetime(2020, 1, 1, tzinfo=timezone.utc)
    PhoneNumber.objects.bulk_create([
        PhoneNumber(user_id=account_ids[i % len(account_ids)], number=normalize_e164(own_number(i), "NL"),
                    valid_from=since)
        for i in range(len(account_ids) * NUMBERS_PER_ACCOUNT)
    ], batch_size=2000)


def policy_seed(account_ids: list[int]) -> None:
    from accounts.dsr.models import PolicyNoticeSeen, PolicyVersion
    from accounts.models import User

    now = datetime.now(timezone.utc)
    User.objects.filter(pk__in=account_ids).update(date_joined=now - timedelta(days=730))
    version = PolicyVersion.objects.create(
        version="bench-2", published_at=now - timedelta(days=30), substantive=True,
        summary="Calls are kept 3 months instead of 6.", text="# Privacy policy\n\nThe bench's version.")
    PolicyNoticeSeen.objects.bulk_create([PolicyNoticeSeen(user_id=pk, version=version) for pk in account_ids],
                                         batch_size=5000)


def _tariffs_seed() -> None:
    from traffic.models import Tariff

    Tariff.objects.bulk_create([
        Tariff(prefix=p, zone=z, price_per_minute=Decimal(ppm), setup_fee=Decimal("0.01"), increment_first=30,
               increment_next=6, valid_from=date(2020, 1, 1)) for p, z, ppm in TARIFFS
    ])


def _invoices_seed(*, month: date, account_ids: list[int], age: int) -> None:
    """One invoice per customer for `month` (`age` months ago) with three lines; the month's rated
    calls point at their invoice."""
    from django.db import connection

    from traffic.models import Invoice, InvoiceLine
    from traffic.partitions import add_months, partition_name

    issued = datetime.combine(add_months(month, 1), datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=2)
    invoices = []
    for n, account_id in enumerate(account_ids):
        status = Invoice.Status.PAID if age > 3 else (
            Invoice.Status.DISPUTED if n % 20 == 0 and age > 1 else Invoice.Status.OPEN)
        total = Decimal(10 + (account_id * 7 + age * 13) % 90) + Decimal("0.45")
        invoices.append(Invoice(
            number=f"INV-{month:%Y%m}-{account_id}", account_id=account_id, period=month, issued_at=issued,
            due_date=issued.date() + timedelta(days=14), dispute_window_ends=issued.date() + timedelta(days=183),
            calls_kept_until=issued.date() + timedelta(days=183),  # bulk_create skips Invoice.save's default
            status=status, total=total, paid_at=issued + timedelta(days=10) if status == Invoice.Status.PAID else None,
            settled_at=issued + timedelta(days=10) if status == Invoice.Status.PAID else None))
    Invoice.objects.bulk_create(invoices, batch_size=2000)
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, zone=zone, month=month, calls=20, seconds=3000,
                    amount=(invoice.total * share).quantize(Decimal("0.01")))
        for invoice in invoices for zone, share in INVOICE_ZONES
    ], batch_size=5000)
    with connection.cursor() as cursor:
        # Reviewed: the table name is the partition's, made by our own partition_name; the month is bound.
        cursor.execute(
            f"UPDATE {partition_name('traffic_cdr', month)} c SET invoice_id = i.id FROM traffic_invoice i "  # nosec B608
            "WHERE i.account_id = c.account_id AND i.period = %s AND c.rating = 'rated'", [month])


def customers_sign_in(*, count: int) -> list[Customer]:
    """Sessions (as `django.contrib.auth.login` stores them, through the configured engine) and API
    tokens for the first `count` customers."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from knox.models import AuthToken

    from accounts.models import User

    engine = import_module(settings.SESSION_ENGINE)
    customers = []
    for user in User.objects.filter(username__startswith="bench").order_by("id")[:count]:
        session = engine.SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        AuthToken.objects.filter(user=user).delete()  # one token each, however many runs came before
        _, token = AuthToken.objects.create(user=user)
        customers.append(Customer(session_key=session.session_key, token=token))
    return customers
