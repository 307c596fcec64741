"""Demo data for `manage.py seed_demo`: two switches (order 20), then (order 25) tariffs, three months
of synthetic calls for the demo users (alice, bob, carol, acme-admin) plus this month's calls so far,
and invoices for the months that are over: alice's oldest paid, the next disputed, the last open.

Calls are written by `demo_calls_write` through the importer's own write path (numbers encrypted
under the month key, blind indexes, dedupe on the unique id), the price fixed from the tariff of the
longest prefix. Unique ids are derived from user, month and index and times are fixed per month, so
running the seeder again adds nothing. All numbers are fictitious (the 555 block and made-up mobiles).
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from django.db import transaction
from django.utils.timezone import now

from accounts.models import User

from .ingest.rows import CdrRecord
from .ingest.run import cdr_rows_write
from .models import Cdr, Invoice, Source, Tariff
from .partitions import add_months, month_start
from .rating import TariffBook
from .services.invoices import invoice_dispute, invoice_mark_paid, invoice_run
from .services.sources import source_create
from .services.tariffs import tariff_create

DEMO_SOURCES = (
    {"name": "ams-asterisk", "format": Source.Format.ASTERISK_CSV, "timezone": "Europe/Amsterdam",
     "default_country": "NL", "carrier": "KPN Wholesale"},
    {"name": "rtm-freeswitch", "format": Source.Format.FREESWITCH_JSON, "timezone": "UTC",
     "default_country": "NL", "carrier": "Tele2 Interconnect"},
)


def seed_sources(stdout=None) -> None:
    made = []
    for spec in DEMO_SOURCES:
        if not Source.objects.filter(name=spec["name"]).exists():
            source_create(**spec)
            made.append(spec["name"])
    if stdout is not None:
        names = ", ".join(s["name"] for s in DEMO_SOURCES)
        stdout.write(f"CDR sources: {names}" + (" (new)" if made else "") +
                     " — import files with: python manage.py import_cdrs --source ams-asterisk FILE\n")

DEMO_TARIFFS = (  # prefix, zone, its Dutch name, price per minute
    ("31", "NL fixed", "NL vast", "0.02000"), ("316", "NL mobile", "NL mobiel", "0.08000"),
    ("3120", "NL Amsterdam", "NL Amsterdam", "0.01500"), ("44", "United Kingdom", "Verenigd Koninkrijk", "0.05000"),
    ("447", "UK mobile", "VK mobiel", "0.12000"), ("49", "Germany", "Duitsland", "0.04000"),
)
DEMO_PEOPLE = {  # username: own number used in the demo calls
    "alice": "+31205550101", "bob": "+31205550201", "carol": "+31205550202", "acme-admin": "+31205550200",
}
OTHER_PARTIES = ["+31699992001", "+31699992002", "+31205554567", "+31205553567", "+447700900123", "+493012345678",
                 "+31699992003", "+31205557890"]
# Untrusted caller-ID text as switches really deliver it; the pages and CSV export must defuse it.
CALLER_NAMES = ["Jan de Vries", "Pizzeria \"Roma\"", "<b>Bold</b> & co", '=HYPERLINK("http://evil.example","Click")',
                "Bakker, P.", ""]
CALLS_PER_MONTH = 24


@transaction.atomic
def demo_calls_write(*, account, own_number: str, month: date, source: Source, until: datetime) -> int:
    """One month of one user's synthetic calls (only those before `until`), stored by the importer's
    write path (traffic.ingest.run.cdr_rows_write), which skips the ones already there. Returns how
    many were new."""
    rnd = random.Random(f"{account.username}-{month:%Y%m}")
    book = TariffBook.load()
    start = datetime.combine(month, datetime.min.time(), tzinfo=timezone.utc)
    span = int((datetime.combine(add_months(month, 1), datetime.min.time(), tzinfo=timezone.utc) - start).total_seconds())
    records = []
    for i in range(CALLS_PER_MONTH):
        started = start + timedelta(seconds=rnd.randrange(span - 3600))
        other = rnd.choice(OTHER_PARTIES)
        incoming = rnd.random() < 0.3
        answered = rnd.random() < 0.85
        billsec = rnd.randrange(8, 900) if answered else 0
        name = rnd.choice(CALLER_NAMES) if incoming else ""
        uid = f"demo-{account.pk}-{month:%Y%m}-{i:03d}"
        if started >= until:
            continue
        src, dst = (other, own_number) if incoming else (own_number, other)
        rating, zone, price = Cdr.Rating.FREE, "", None
        if answered and not incoming:
            rule = book.tariff_at(dst, started)
            if rule is None:
                rating = Cdr.Rating.UNRATED
            else:
                rating, zone, price = Cdr.Rating.RATED, rule.zone, book.price(rule, billsec)[0]
        records.append(CdrRecord(
            unique_id=uid, fingerprint=uid[-16:], started_at=started, src=src, dst=dst,
            account_id=account.pk, contractor_id=account.contractor_id,
            direction=Cdr.Direction.IN if incoming else Cdr.Direction.OUT,
            disposition=Cdr.Disposition.ANSWERED if answered else Cdr.Disposition.NO_ANSWER,
            answered_at=started + timedelta(seconds=4) if answered else None, duration=billsec + 4, billsec=billsec,
            caller_name=name, rating=rating, zone=zone, price=price,
        ))
    return cdr_rows_write(source=source, records=records).imported


def seed_calls(stdout=None) -> None:
    if not Tariff.objects.exists():
        for prefix, zone, zone_nl, ppm in DEMO_TARIFFS:
            tariff_create(prefix=prefix, zone=zone, zone_nl=zone_nl, price_per_minute=Decimal(ppm), setup_fee=Decimal("0.01"),
                          valid_from=date(2020, 1, 1))
    source = Source.objects.filter(name="ams-asterisk").first() or Source.objects.filter(name="demo-pbx").first()
    if source is None:
        source = source_create(name="demo-pbx", format="asterisk-csv", carrier="Demo Carrier")
    moment = now()
    this_month = month_start(moment)
    months = [add_months(this_month, -3), add_months(this_month, -2), add_months(this_month, -1), this_month]
    new = 0
    for username, number in DEMO_PEOPLE.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        for month in months:
            new += demo_calls_write(account=user, own_number=number, month=month, source=source, until=moment)
    for month in months[:-1]:
        invoice_run(month=month)
    alice_invoices = list(Invoice.objects.filter(account__username="alice", period__in=months[:-1]).order_by("period"))
    if len(alice_invoices) == 3:
        oldest, middle, _latest = alice_invoices
        if oldest.status == Invoice.Status.OPEN and oldest.paid_at is None:
            invoice_mark_paid(invoice=oldest, actor=None)
        if middle.status == Invoice.Status.OPEN and middle.disputed_at is None:
            invoice_dispute(invoice=middle, actor=None)
    if stdout is not None:
        stdout.write(f"Calls and invoices: {new} new demo calls; {Invoice.objects.count()} invoices "
                     "(alice: one paid, one disputed, one open) — see /calls/ and /calls/invoices/")
