"""seed_demo: idempotent, prints what a newcomer needs, and leaves no personal data readable at rest."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import phonenumbers
import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import connection

from accounts.models import PhoneNumber, User

OUR_APPS = ["voipxs", "accounts", "traffic", "retention", "disclosures"]
STAFF = ["billing", "legal1", "legal2", "legal3", "dpo", "support", "admin", "noc", "fraud"]
CUSTOMERS = ["alice", "acme-admin", "bob", "carol"]


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    # The audit log may grow with each run (the seeders' writes are audited); everything else may not.
    return {
        model._meta.label: model._default_manager.count()
        for app in OUR_APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.label != "voipxs.AuditEntry" and not model._meta.proxy
    }


def plain_forms(number: str) -> list[str]:
    """The ways a seeded number could appear in plain text: E.164 with and without +, national."""
    parsed = phonenumbers.parse(number)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return sorted({number, number.lstrip("+"), national, re.sub(r"\D", "", national)})


def seeded_secrets() -> list[str]:
    numbers = [p.number for p in PhoneNumber.objects.all()]
    emails = [u.email for u in User.objects.exclude(email=None) if u.email]
    assert len(numbers) >= 5 and len(emails) >= 10  # the check below must have something to look for
    return sorted({form for n in numbers for form in plain_forms(n)} | {e.lower() for e in emails})


@pytest.mark.django_db
class SeedDemoTests:
    def test_it_is_idempotent(self):
        seed()
        first = row_counts()
        seed()
        assert row_counts() == first
        assert first["accounts.User"] == len(STAFF) + len(CUSTOMERS)

    def test_it_prints_every_login_with_numbers_and_staff_totp_secrets(self):
        output = seed()
        from accounts.sections import DEMO_PASSWORD

        assert DEMO_PASSWORD in output
        lines = {line.split()[0]: line for line in output.splitlines() if line.startswith("  ")}
        for username in STAFF + CUSTOMERS:
            assert username in lines
        for username in STAFF:
            assert re.search(r"TOTP secret: [A-Z2-7]{16,}", lines[username]), lines[username]
        for username in CUSTOMERS:
            assert "TOTP" not in lines[username]
        assert re.search(r"\+31\d{9}", lines["alice"])

    def test_it_prints_totp_secrets_that_produce_valid_codes(self):
        import base64

        from django_otp.oath import totp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        output = seed()
        secret = re.search(r"legal1 .*TOTP secret: ([A-Z2-7]+)", output).group(1)
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        device = TOTPDevice.objects.get(user__username="legal1", name="demo")
        assert device.verify_token(f"{totp(key):06d}")

    def test_it_creates_logins_that_work_with_the_printed_password(self):
        seed()
        from accounts.sections import DEMO_PASSWORD

        from django.test import RequestFactory

        request = RequestFactory().post("/accounts/login/")  # django-axes checks every login against a request
        assert authenticate(request, username="alice", password=DEMO_PASSWORD) is not None
        assert authenticate(request, username="alice", password="wrong-password") is None

    def test_it_stores_users_and_numbers_without_readable_personal_data(self):
        seed()
        secrets = seeded_secrets()
        dump = []
        with connection.cursor() as cursor:
            for model in (User, PhoneNumber):
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
                dump.extend(repr(row) for row in cursor.fetchall())
        text = "\n".join(dump).lower()
        assert "alice" in text  # login names are not secret: proves we read the right tables
        assert [s for s in secrets if s in text] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class SeedDemoDumpTests:
    def test_it_leaves_no_seeded_number_or_address_in_a_pg_dump(self):
        if shutil.which("pg_dump") is None:
            pytest.fail("pg_dump is not installed (Debian: postgresql-client)")
        seed()
        secrets = seeded_secrets()
        db = connection.settings_dict
        env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
        cmd = ["pg_dump", "--no-owner", "-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432),
               "-U", db.get("USER") or "postgres", db["NAME"]]
        result = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        dump = result.stdout.decode("utf-8", errors="replace").lower()
        assert "accounts_phonenumber" in dump and "alice" in dump  # the dump holds the seeded tables
        assert [s for s in secrets if s in dump] == []
