"""factory_boy factories and the named personas used across the suite.

Personas:
- alice: private customer, holds +31205550101. Sees only her own data (SELF_SERVICE). Opted in to itemised
  bills with full numbers (new accounts have none: GDPR art. 25).
- bob, carol: Users of contractor Acme BV. Each sees only their own data. Acme opted in to itemised bills
  with full numbers for its Users (new contractors have none).
- acme_admin: contractor_admin of Acme BV; sees Acme's Users' traffic masked (CONTRACTOR_INFORMATION).
- mallory: customer of another contractor; must never see Acme's or alice's data.
- legal1/2/3: legal officers (LEGAL_OBLIGATION, DISPUTE), with confirmed TOTP devices.
- dpo, billing, support, admin: staff roles with their purposes (voipxs/privacy/purposes.py).
"""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import factory
import pytest
from django.utils.timezone import now

from accounts.models import Contractor, Itemisation, PhoneNumber, User
from accounts.services.numbers import phone_number_assign
from accounts.services.users import user_create
from traffic.ingest.rows import CdrRecord, stored_id
from traffic.ingest.run import cdr_rows_write
from traffic.models import Cdr, Source
from voipxs.privacy.purposes import Role

PASSWORD = "correct-horse-battery-staple"


class ContractorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contractor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Contractor {n} BV")


def make_user(username: str, *, roles=(Role.CUSTOMER,), contractor=None, numbers=(), email=None, totp=False,
              itemisation: str | None = None, omit_free_numbers: bool = True) -> User:
    """`itemisation`: the user's choice of itemised bills at sign-up, which applies to all their bills (a change
    later, user_itemisation_set, applies from the next billing period); None keeps the default."""
    user = user_create(username=username, password=PASSWORD, email=email or f"{username}@example.org",
                       roles=list(roles), contractor=contractor, itemisation=itemisation or Itemisation.NONE,
                       omit_free_numbers=omit_free_numbers)
    for number in numbers:
        phone_number_assign(user=user, number=number, valid_from=now() - timedelta(days=365))
    if totp:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


@pytest.fixture
def acme(db) -> Contractor:
    return ContractorFactory(name="Acme BV", itemisation=Itemisation.FULL)  # opted in (the default is NONE)


@pytest.fixture
def alice(db) -> User:
    return make_user("alice", numbers=["+31205550101"], itemisation=Itemisation.FULL)  # opted in


@pytest.fixture
def bob(acme) -> User:
    return make_user("bob", contractor=acme, numbers=["+31205550201"])


@pytest.fixture
def carol(acme) -> User:
    return make_user("carol", contractor=acme, numbers=["+31205550202"])


@pytest.fixture
def acme_admin(acme) -> User:
    return make_user("acme-admin", roles=(Role.CUSTOMER, Role.CONTRACTOR_ADMIN), contractor=acme, numbers=["+31205550200"])


@pytest.fixture
def mallory(db) -> User:
    other = ContractorFactory(name="Other BV")
    return make_user("mallory", contractor=other, numbers=["+31205550999"])


@pytest.fixture
def legal1(db) -> User:
    return make_user("legal1", roles=(Role.LEGAL_OFFICER,), totp=True)


@pytest.fixture
def legal2(db) -> User:
    return make_user("legal2", roles=(Role.LEGAL_OFFICER,), totp=True)


@pytest.fixture
def legal3(db) -> User:
    return make_user("legal3", roles=(Role.LEGAL_OFFICER,), totp=True)


@pytest.fixture
def dpo(db) -> User:
    return make_user("dpo", roles=(Role.DPO,), totp=True)


@pytest.fixture
def billing_staff(db) -> User:
    return make_user("billing", roles=(Role.BILLING,), totp=True)


@pytest.fixture
def support(db) -> User:
    return make_user("support", roles=(Role.SUPPORT,), totp=True)


@pytest.fixture
def admin_user(db) -> User:
    return make_user("admin", roles=(Role.ADMIN,), totp=True)


@pytest.fixture
def noc(db) -> User:
    """Network operations: the CDR sources and imports (the switches), read under SECURITY."""
    return make_user("noc", roles=(Role.NOC,), totp=True)


@pytest.fixture
def fraud_analyst(db) -> User:
    """The fraud analyst: the blocked click-to-call prefixes, read and changed under SECURITY."""
    return make_user("fraud", roles=(Role.FRAUD,), totp=True)


def verified_client(client, user):
    """A Django test client signed in as `user` with the second factor passed (django-otp)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


# --- traffic -----------------------------------------------------------------------------------------

def make_source(name: str = "pbx1", fmt: str = "asterisk-csv", tz: str = "Europe/Amsterdam"):
    return Source.objects.get_or_create(name=name, defaults={"format": fmt, "timezone": tz})[0]


def make_cdr(
    *,
    account=None,
    src: str = "+31205550101",
    dst: str = "+31699993678",
    started_at=None,
    direction: str = "out",
    disposition: str = "answered",
    billsec: int = 60,
    duration: int | None = None,
    caller_name: str = "",
    source=None,
    unique_id: str | None = None,
    rating: str = "rated",
    zone: str = "NL mobile",
    price=None,
    invoice=None,
    technical: dict | None = None,
) -> Cdr:
    """One CDR written by the importer's own write path (traffic.ingest.run.cdr_rows_write: numbers
    encrypted under the month key with blind indexes, the month's partition created first), with
    what it decides given here instead. For tests of selectors, retention, disclosures. An invoice
    is attached afterwards, as invoicing does."""
    started_at = started_at or now() - timedelta(days=1)
    source = source or make_source()
    uid = unique_id or f"test-{next(_cdr_counter)}"
    record = CdrRecord(
        unique_id=uid, fingerprint=uid[-16:], started_at=started_at, src=src, dst=dst,
        account_id=getattr(account, "pk", None), contractor_id=getattr(account, "contractor_id", None),
        direction=direction, disposition=disposition,
        answered_at=started_at if disposition == "answered" else None,
        duration=duration if duration is not None else billsec + 5, billsec=billsec, caller_name=caller_name,
        rating=rating, zone=zone if rating == "rated" else "",
        price=(price if price is not None else Decimal("0.05")) if rating == "rated" else None,
        technical=technical,
    )
    written = cdr_rows_write(source=source, records=[record])
    assert written.imported == 1, f"make_cdr: unique id {uid!r} is already taken in source {source.name!r}"
    cdrs = Cdr.objects.filter(source=source, unique_id=stored_id(uid))  # an id naming a host is stored hashed
    if invoice is not None:
        cdrs.update(invoice=invoice)
    return cdrs.get()


_cdr_counter = itertools.count(1)


def make_cdrs(*, account, n: int, first=None, step=timedelta(minutes=7), src: str = "+31205550101",
              caller_name: str = "", source=None) -> None:
    """`n` answered outgoing calls of `account`, one every `step` back from `first`, each to its own
    number (+316 then the call's index), stored in batches by the importer's own write path (as
    make_cdr, for exports of thousands of calls)."""
    first = first or now() - timedelta(hours=1)
    source = source or make_source()
    records = []
    for i in range(n):
        at = first - step * i
        uid = f"bulk-{next(_cdr_counter)}"
        records.append(CdrRecord(
            unique_id=uid, fingerprint=uid[-16:], started_at=at, src=src, dst=f"+316{i:08d}",
            account_id=account.pk, contractor_id=account.contractor_id, direction="out", disposition="answered",
            answered_at=at, duration=65, billsec=60, caller_name=caller_name, rating="rated", zone="NL mobile",
            price=Decimal("0.05"), technical=None,
        ))
    written = cdr_rows_write(source=source, records=records)
    assert written.imported == n, f"make_cdrs: {written.imported} of {n} stored"


# --- transactional tests on SQLite (infra) ---------------------------------------------------------

@pytest.fixture
def audit_log_flushable(transactional_db):
    """Transactional tests (live_server, a real Celery worker) end with a flush of every table. On
    SQLite the flush DELETEs, which the append-only triggers of the audit log and its anchors refuse;
    this empties both tables with their triggers lifted for a moment, after the test and before the
    flush, and puts back exactly the triggers it found (PostgreSQL flushes with TRUNCATE, which the
    row triggers do not see)."""
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    tables = ("voipxs_auditentry", "voipxs_auditanchor")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s)", tables)
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        for table in tables:
            cursor.execute(f'DELETE FROM "{table}"')
        for _name, sql in triggers:
            cursor.execute(sql)


@pytest.fixture(autouse=True)
def month_key_cache_reset():
    """traffic.keys caches unwrapped month keys per process for 60 s; a test's rolled-back MonthKey
    must not linger there for the next test (which would then get a cipher but no MonthKey row)."""
    from traffic import keys

    keys.month_keys_forget()
    keys._uncommitted.clear()  # noqa: SLF001
    yield
    keys.month_keys_forget()
    keys._uncommitted.clear()  # noqa: SLF001
