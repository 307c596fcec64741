"""LEGAL.md section 5 row 21: key rotation decrypts what an older key sealed, so each table it walks leaves an
audit entry ("keys.rotate") with its counts, under the purpose SECURITY (GDPR art. 32): a real run, a dry run,
a rotator run on its own, and a walk that fails half-way."""
from __future__ import annotations

import base64
import io
from datetime import datetime, timezone

import pytest
from django.core.management import call_command
from django.test import override_settings

from accounts.models import PhoneNumber
from retention.models import HeldCdr
from retention.rotation import held_cdr_rotate
from tests.factories import make_cdr, make_user
from traffic.models import MonthKey
from voipxs.models import AuditEntry
from voipxs.privacy import crypto
from voipxs.privacy.rotation import ROTATION_ACTION, rotate_bound

KEY_A = base64.urlsafe_b64encode(b"rotation-test-key-A-32-bytes-ok!").decode()
KEY_B = base64.urlsafe_b64encode(b"rotation-test-key-B-32-bytes-ok!").decode()


def _rotations() -> dict[str, AuditEntry]:
    return {e.target_id: e for e in AuditEntry.objects.filter(action=ROTATION_ACTION).order_by("pk")}


def _held_row(token_key: list[str]) -> HeldCdr:
    with override_settings(FIELD_ENCRYPTION_KEYS=token_key):
        src = crypto.encrypt_bytes(b"+31205550101", aad=b"heldcdr:7")
        dst = crypto.encrypt_bytes(b"+31699993678", aad=b"heldcdr:7")
    return HeldCdr.objects.create(cdr_id=7, started_at=datetime(2026, 1, 1, tzinfo=timezone.utc), source_id=1,
                                  unique_id="u", fingerprint="f", direction="out", disposition="answered",
                                  src_enc=src, dst_enc=dst, src_index="a", dst_index="b", rating="rated")


@pytest.fixture
def users_under_key_b(db):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        return [make_user(f"rot{i}", numbers=[f"+3120555{i:04d}"]) for i in range(3)]


@pytest.mark.django_db
class RotationAuditTests:
    def test_each_table_the_command_walks_is_recorded_under_security_with_counts_only(self, users_under_key_b, alice,
                                                                                          settings):
        make_cdr(account=alice)  # a month key, which rotate_keys re-wraps
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A, *settings.FIELD_ENCRYPTION_KEYS, KEY_B]):
            call_command("rotate_keys", stdout=io.StringIO())

        rotations = _rotations()
        assert {"accounts.User", "accounts.PhoneNumber", "traffic.MonthKey", "retention.HeldCdr"} <= set(rotations)
        assert {(e.purpose, e.actor, e.target_type) for e in rotations.values()} == {
            ("security", "system:rotate_keys", "model")}
        numbers = PhoneNumber.objects.count()  # every one sealed under an older key than KEY_A
        assert numbers >= 3 and rotations["accounts.PhoneNumber"].extra == {
            "scanned": numbers, "rotated": numbers, "undecryptable": 0, "dry_run": False}
        assert rotations["traffic.MonthKey"].extra["rotated"] == MonthKey.objects.count() >= 1
        text = " ".join(f"{e.target_id} {e.extra}" for e in rotations.values())
        assert "@" not in text and "+3120555" not in text

    def test_a_dry_run_is_recorded_as_one(self, users_under_key_b):
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A, KEY_B]):
            call_command("rotate_keys", "--dry-run", stdout=io.StringIO())

        user = _rotations()["accounts.User"]
        assert user.purpose == "security" and user.extra["dry_run"] is True and user.extra["rotated"] == 3

    def test_a_rotator_run_on_its_own_records_its_table(self, settings):
        _held_row(list(settings.FIELD_ENCRYPTION_KEYS)[::-1])

        assert held_cdr_rotate() == {"scanned": 1, "rotated": 1, "undecryptable": 0}

        [held] = _rotations().values()
        assert (held.target_id, held.purpose, held.extra["rotated"]) == ("retention.HeldCdr", "security", 1)

    def test_a_walk_that_fails_half_way_is_recorded_with_the_failure(self, settings):
        _held_row(list(settings.FIELD_ENCRYPTION_KEYS)[::-1])

        def unbound(row):
            raise LookupError("no associated data")

        with pytest.raises(LookupError):
            rotate_bound(HeldCdr.objects.all(), ("src_enc",), aad=unbound, batch_size=10, dry_run=False)

        [held] = _rotations().values()
        assert held.purpose == "security" and held.extra["failed"] == "LookupError" and held.extra["scanned"] == 1
