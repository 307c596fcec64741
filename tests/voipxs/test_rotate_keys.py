from __future__ import annotations

import base64
import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import BinaryField
from django.db.models.functions import Cast
from django.test import override_settings
from django.utils.timezone import now

from accounts.models import PhoneNumber, User
from accounts.selectors import phone_number_holder_at, user_by_email
from tests.factories import make_user
from voipxs.privacy import crypto, registry
from voipxs.privacy.purposes import Purpose, SystemActor

KEY_A = base64.urlsafe_b64encode(b"rotation-test-key-A-32-bytes-ok!").decode()
KEY_B = base64.urlsafe_b64encode(b"rotation-test-key-B-32-bytes-ok!").decode()
KEY_C = base64.urlsafe_b64encode(b"rotation-test-key-C-32-bytes-ok!").decode()


def raw_key_ids(model, field: str) -> set[bytes]:
    values = model.objects.annotate(raw=Cast(field, output_field=BinaryField())).values_list("raw", flat=True)
    return {bytes(v)[1:5] for v in values if v is not None}


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def rows_under_key_b(db):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        users = [make_user(f"rot{i}", numbers=[f"+3120555{i:04d}"]) for i in range(5)]
    return users


@pytest.mark.django_db
class RotateKeysTests:
    def test_it_re_encrypts_old_rows_under_the_newest_key_and_they_still_read(self, rows_under_key_b):
        id_a, id_b = crypto.key_id(base64.urlsafe_b64decode(KEY_A)), crypto.key_id(base64.urlsafe_b64decode(KEY_B))
        assert raw_key_ids(User, "email") == {id_b} and raw_key_ids(PhoneNumber, "number") == {id_b}
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A, KEY_B]):
            assert User.objects.get(username="rot1").email == "rot1@example.org"  # old rows read before rotation
            report = rotate("--batch-size", "2")
            assert raw_key_ids(User, "email") == {id_a} and raw_key_ids(PhoneNumber, "number") == {id_a}
            assert "accounts.User (email): scanned 5, rotated 5" in report
            assert "accounts.PhoneNumber (number): scanned 5, rotated 5" in report
            assert "rotated 0" in rotate()  # a second run finds nothing left
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):  # the old key is gone; everything still reads
            assert sorted(User.objects.filter(username__startswith="rot").values_list("email", flat=True)) == [
                f"rot{i}@example.org" for i in range(5)]
            assert user_by_email(email="ROT3@example.org").username == "rot3"
            holder = phone_number_holder_at(actor=SystemActor("test", frozenset({Purpose.SECURITY})), purpose="security", number="020 555 0002", at=now())
            assert holder.user.username == "rot2"

    def test_it_reports_counts_and_never_values(self, rows_under_key_b):
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A, KEY_B]):
            report = rotate()
        assert "@" not in report and "+3120" not in report

    def test_it_writes_nothing_on_a_dry_run(self, rows_under_key_b):
        id_b = crypto.key_id(base64.urlsafe_b64decode(KEY_B))
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A, KEY_B]):
            report = rotate("--dry-run")
        assert "would rotate 5" in report and raw_key_ids(User, "email") == {id_b}

    def test_it_fails_loudly_on_rows_no_configured_key_reads(self, rows_under_key_b):
        with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A, KEY_C]):
            with pytest.raises(CommandError, match="decrypt with none of the configured keys"):
                rotate()

    def test_it_runs_the_rotators_other_apps_register(self, db):
        calls = []
        registry.register_rotator("test-month-keys", lambda *, batch_size, dry_run: calls.append(dry_run) or
                                  {"scanned": 3, "rotated": 1})
        try:
            report = rotate("--dry-run")
        finally:
            registry._rotators.pop("test-month-keys")
        assert calls == [True] and "test-month-keys: scanned 3, would rotate 1" in report


@pytest.mark.django_db
class MonthKeyRotationTests:
    def test_it_rewraps_month_keys_and_the_months_still_read(self, alice, settings):
        from tests.factories import make_cdr
        from traffic import keys
        from traffic.keys import decrypt_number
        from traffic.models import MonthKey

        cdr = make_cdr(account=alice)
        newer = "bmV3ZXItbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nLS0="
        with override_settings(FIELD_ENCRYPTION_KEYS=[newer, *settings.FIELD_ENCRYPTION_KEYS]):
            call_command("rotate_keys", stdout=io.StringIO())
            assert not crypto.needs_rotation(bytes(MonthKey.objects.get().wrapped_key))
            keys.month_keys_forget()
            assert decrypt_number(cdr.dst_enc, started_at=cdr.started_at) == "+31699993678"
