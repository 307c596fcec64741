"""Closed accounts and failed sign-in records in the daily purge, with a frozen clock (`now=`).

Timeline of `closed_alice`: closed 2026-02-10; January's invoice (issued 2026-02-02) paid 2026-02-15;
the final invoice, February's (issued 2026-03-05), paid 2026-03-18. The closed_account policy keeps the
user data 30 days after that.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from axes.models import AccessAttempt
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountCloseReason, PhoneNumber, User
from accounts.services.closing import account_close
from retention.models import Category, PurgeRun
from retention.purge.run import purge_expired
from retention.services import legal_hold_place, legal_hold_release
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice
from traffic.models import Invoice
from voipxs.models import AuditEntry

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
CLOSED = at(2026, 2, 10)
FINAL_PAID = at(2026, 3, 18, 0)
HOLD_FROM = at(2026, 1, 1)  # holds are in force at the purge's frozen "now"


def _receipt(result: dict, category: str) -> dict:
    return next(r for r in result["receipts"] if r["category"] == category)


def _close(user, actor, moment=CLOSED) -> User:
    account_close(user=user, actor=actor, reason=AccountCloseReason.CONTRACT_ENDED)
    User.objects.filter(pk=user.pk).update(closed_at=moment)  # the clock of this story
    return User.objects.get(pk=user.pk)


@pytest.fixture
def closed_alice(alice, billing_staff):
    TOTPDevice.objects.create(user=alice, name="default", confirmed=True)
    make_invoice(account=alice, period=JAN, status="paid")
    final = make_invoice(account=alice, period=FEB, status="paid")
    assert final.paid_at == FINAL_PAID
    return _close(alice, billing_staff)


def _untouched(user) -> bool:
    user = User.objects.get(pk=user.pk)
    return (user.anonymised_at is None and user.username == "alice" and user.email == "alice@example.org"
            and PhoneNumber.objects.filter(user=user).exists() and TOTPDevice.objects.filter(user=user).exists())


@pytest.mark.django_db
class ClosedAccountPurgeTests:
    @pytest.mark.parametrize("status", ["open", "disputed"])
    def test_it_keeps_the_data_while_the_final_invoice_is_open_or_disputed(self, closed_alice, status):
        Invoice.objects.filter(account=closed_alice, period=FEB).update(status=status, paid_at=None)

        result = purge_expired(now=at(2027, 6, 1))

        assert _untouched(closed_alice)
        receipt = _receipt(result, Category.CLOSED_ACCOUNT)
        assert receipt["anonymised"] == 0 and receipt["kept"] == 1
        assert receipt["details"]["invoice_not_settled"] == 1

    def test_it_keeps_the_data_for_30_days_after_the_final_invoice_is_paid(self, closed_alice):
        result = purge_expired(now=FINAL_PAID + timedelta(days=29))

        assert _untouched(closed_alice)
        assert _receipt(result, Category.CLOSED_ACCOUNT)["details"]["within_period"] == 1

    def test_it_anonymises_the_account_31_days_after_the_final_invoice_is_paid(self, closed_alice, bob):
        bob_invoice = make_invoice(account=bob, period=JAN, status="paid")  # bob's contract goes on

        result = purge_expired(now=FINAL_PAID + timedelta(days=31))

        user = User.objects.get(pk=closed_alice.pk)
        assert user.anonymised_at is not None and user.username.startswith("erased-") and user.email is None
        assert not TOTPDevice.objects.filter(user=user).exists()
        assert not PhoneNumber.objects.filter(user=user).exists()  # no calls or hold need the periods
        assert not User.objects.filter(username="alice").exists()
        # what invoices must keep stays: the invoices and the (anonymous) account they belong to
        assert Invoice.objects.filter(account=user).count() == 2
        receipt = _receipt(result, Category.CLOSED_ACCOUNT)
        assert receipt["anonymised"] == 1 and receipt["kept"] == 0
        # the audit entry names the account by pseudonym only
        entry = AuditEntry.objects.get(action="account.anonymise")
        assert "alice" not in f"{entry.target_id} {entry.extra}"
        # the running contract is not touched
        assert User.objects.get(pk=bob.pk).username == "bob" and bob_invoice.account_id == bob.pk
        # and a later run has nothing left to do
        again = purge_expired(now=FINAL_PAID + timedelta(days=32))
        assert _receipt(again, Category.CLOSED_ACCOUNT)["anonymised"] == 0

    def test_a_final_invoice_voided_after_a_dispute_counts_from_when_it_was_voided(self, closed_alice, billing_staff):
        from traffic.services.invoices import invoice_resolve_dispute

        final = Invoice.objects.get(account=closed_alice, period=FEB)
        Invoice.objects.filter(pk=final.pk).update(status="disputed", disputed_at=FINAL_PAID + timedelta(days=1))
        invoice_resolve_dispute(invoice=final, actor=billing_staff, resolution="upheld")  # voided today
        voided = Invoice.objects.get(pk=final.pk).settled_at

        kept = purge_expired(now=voided + timedelta(days=29))
        assert _untouched(closed_alice)
        assert _receipt(kept, Category.CLOSED_ACCOUNT)["details"]["within_period"] == 1

        purge_expired(now=voided + timedelta(days=31))
        assert User.objects.get(pk=closed_alice.pk).anonymised_at is not None

    def test_a_dry_run_counts_and_changes_nothing(self, closed_alice):
        result = purge_expired(now=FINAL_PAID + timedelta(days=31), dry_run=True)

        assert _receipt(result, Category.CLOSED_ACCOUNT)["anonymised"] == 1
        assert _untouched(closed_alice)

    def test_it_waits_for_the_final_invoice_while_calls_are_not_yet_invoiced(self, closed_alice):
        make_cdr(account=closed_alice, started_at=at(2026, 2, 9), rating="rated")  # March's run bills it

        result = purge_expired(now=FINAL_PAID + timedelta(days=31))

        assert _untouched(closed_alice)
        assert _receipt(result, Category.CLOSED_ACCOUNT)["details"]["final_invoice_pending"] == 1

    def test_a_legal_hold_on_the_account_keeps_it_until_released(self, closed_alice, dpo):
        hold = legal_hold_place(reason="preservation_order", reference="PO-2026-7",
                                categories=[Category.CLOSED_ACCOUNT], account_ids=[closed_alice.pk], starts_at=HOLD_FROM)

        result = purge_expired(now=FINAL_PAID + timedelta(days=31))

        assert _untouched(closed_alice)
        assert _receipt(result, Category.CLOSED_ACCOUNT)["details"]["legal_hold"] == 1

        legal_hold_release(hold=hold, actor=dpo)
        purge_expired(now=FINAL_PAID + timedelta(days=400))
        assert User.objects.get(pk=closed_alice.pk).anonymised_at is not None

    def test_a_hold_on_a_number_the_account_held_keeps_it_too(self, closed_alice):
        legal_hold_place(reason="preservation_order", reference="PO-2026-8", categories=[Category.CLOSED_ACCOUNT],
                         numbers=["+31205550101"], starts_at=HOLD_FROM)

        purge_expired(now=FINAL_PAID + timedelta(days=31))

        assert _untouched(closed_alice)

    def test_a_hold_on_calls_keeps_the_numbers_periods_but_not_the_profile(self, closed_alice):
        legal_hold_place(reason="preservation_order", reference="PO-2026-9", categories=[Category.CDR_BILLED],
                         account_ids=[closed_alice.pk], starts_at=HOLD_FROM, expires_at=at(2030, 1, 1))

        purge_expired(now=FINAL_PAID + timedelta(days=31))

        user = User.objects.get(pk=closed_alice.pk)
        assert user.anonymised_at is not None and user.email is None
        assert PhoneNumber.objects.filter(user=user).exists()  # what the hold on calls is about

    def test_an_account_that_is_only_inactive_is_never_anonymised(self, alice):
        make_invoice(account=alice, period=JAN, status="paid")
        User.objects.filter(pk=alice.pk).update(is_active=False)  # e.g. a lockout by hand, no closure

        result = purge_expired(now=at(2027, 6, 1))

        assert User.objects.get(pk=alice.pk).username == "alice"
        receipt = _receipt(result, Category.CLOSED_ACCOUNT)
        assert receipt["anonymised"] == 0 and receipt["kept"] == 0


def _attempt(username: str, moment) -> AccessAttempt:
    attempt = AccessAttempt.objects.create(username=username, ip_address="192.0.2.7", user_agent="test", http_accept="",
                                           path_info="/accounts/login/", get_data="", post_data="",
                                           failures_since_start=1)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=moment)  # auto_now_add on create
    return attempt


@pytest.mark.django_db
class LoginAttemptPurgeTests:
    def test_failed_sign_ins_go_after_30_days_and_recent_ones_stay(self):
        purge_at = at(2026, 6, 1)
        old = _attempt("alice", purge_at - timedelta(days=31))
        recent = _attempt("bob", purge_at - timedelta(days=29))

        result = purge_expired(now=purge_at)

        assert set(AccessAttempt.objects.values_list("pk", flat=True)) == {recent.pk}
        receipt = _receipt(result, "login_attempts")
        assert receipt["deleted"] == 1 and receipt["cutoff"].startswith("2026-05-02")
        assert not AccessAttempt.objects.filter(pk=old.pk).exists()

    def test_a_dry_run_only_counts_them(self):
        _attempt("alice", at(2026, 1, 1))

        result = purge_expired(now=at(2026, 6, 1), dry_run=True)

        assert _receipt(result, "login_attempts")["deleted"] == 1 and AccessAttempt.objects.count() == 1
        assert PurgeRun.objects.get(pk=result["run"]).dry_run

    def test_anonymising_a_closed_account_removes_its_failed_sign_ins(self, closed_alice):
        _attempt("alice", FINAL_PAID + timedelta(days=25))
        other = _attempt("bob", FINAL_PAID + timedelta(days=25))

        purge_expired(now=FINAL_PAID + timedelta(days=31))

        assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [other.pk]


@pytest.mark.django_db
class ClosedAccountReceiptPageTests:
    def test_the_dpo_page_shows_the_anonymised_count_and_the_cutoff(self, closed_alice, client, dpo):
        from tests.factories import verified_client

        purge_expired(now=FINAL_PAID + timedelta(days=31))

        body = verified_client(client, dpo).get("/retention/").content.decode()
        receipts = body[body.index('id="receipts"'):]
        # the cells carry their column's heading for the phone layout ({% stacked_table %})
        row = next(r for r in receipts.split("<tr") if ">Closed account&#x27;s user data</td>" in r)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        # when, category, removed, anonymised, kept, cutoff, duration
        assert cells[1:5] == ["Closed account&#x27;s user data", "0", "1", "0"]
        cutoff = FINAL_PAID + timedelta(days=31) - timedelta(days=30)
        assert cells[5] != "—" and str(cutoff.year) in cells[5]
