"""Issue 13 item 5 for retention: no policy below the legal floor it names, readable dry-run labels,
a confirmation before a hold is released and before a purge typed at a terminal."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils.timezone import now

from retention.models import Category, LegalHold, PurgeReceipt, PurgeRun, RetentionPolicy
from retention.services import legal_hold_place, retention_policy_update
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def _form(policy: RetentionPolicy, **changes) -> dict:
    return {"trigger": policy.trigger, "period_months": policy.period_months, "period_days": policy.period_days,
            "action": policy.action, "legal_basis": policy.legal_basis, "change_reason": "test", **changes}


class LegalFloorTests:
    def test_invoices_cannot_be_kept_less_than_seven_years(self, dpo):
        with pytest.raises(ApplicationError) as exc:
            retention_policy_update(category=Category.INVOICE, actor=dpo, period_months=1, change_reason="r")
        assert "at least 7 years (AWR art. 52" in exc.value.message and "1 month is shorter" in exc.value.message
        assert exc.value.extra["field"] == "period_months"
        with pytest.raises(ApplicationError, match="at least 7 years"):
            retention_policy_update(category=Category.INVOICE, actor=dpo, period_months=83, period_days=29,
                                    change_reason="r")
        assert RetentionPolicy.objects.filter(category=Category.INVOICE).count() == 1

    def test_the_audit_log_cannot_go_to_zero_days(self, dpo):
        with pytest.raises(ApplicationError, match=r"at least 5 years \(GDPR art. 5\(2\)"):
            retention_policy_update(category=Category.AUDIT_LOG, actor=dpo, period_months=0, period_days=0,
                                    change_reason="r")

    def test_longer_periods_and_other_categories_are_accepted(self, dpo):
        assert retention_policy_update(category=Category.INVOICE, actor=dpo, period_months=120,
                                       change_reason="r").version == 2
        assert retention_policy_update(category=Category.DSR_EXPORT, actor=dpo, period_days=3,
                                       change_reason="r").version == 2

    def test_the_page_shows_the_floor_next_to_the_policy(self, client, dpo):
        policy = RetentionPolicy.objects.filter(category=Category.INVOICE).order_by("-version").first()
        response = verified_client(client, dpo).post(reverse("retention:policy-update", args=["invoice"]),
                                                     _form(policy, period_months=1))
        assert response.status_code == 400
        assert "must be kept at least 7 years" in response.content.decode()


class DryRunLabelTests:
    def test_the_dashboard_names_steps_in_words_not_internal_keys(self, client, dpo):
        run = PurgeRun.objects.create(as_of=now(), dry_run=True, status=PurgeRun.Status.DONE)
        PurgeReceipt.objects.create(run=run, category="cdr_month_drop", deleted=3, dry_run=True)
        PurgeReceipt.objects.create(run=run, category=Category.CDR_TECHNICAL, deleted=5, dry_run=True)
        page = verified_client(client, dpo).get(reverse("retention:dashboard")).content.decode()
        preview = page.split('id="next-run"')[1].split("</table>")[0]
        assert "cdr_month_drop" not in preview and "cdr_technical" not in preview
        assert "Whole months of calls (detached, key destroyed: unreadable)" in preview
        assert "Technical identifiers (IP, user agent, SIP call-id)" in preview


class HoldReleaseConfirmationTests:
    def test_it_names_the_hold_and_what_the_purge_will_do_before_releasing(self, client, dpo):
        hold = legal_hold_place(reason="dispute", reference="case:7", categories=[Category.CDR_BILLED],
                                account_ids=[dpo.pk], actor=dpo)
        c = verified_client(client, dpo)
        asked = c.post(reverse("retention:hold-release", args=[hold.pk]))
        page = asked.content.decode()
        assert asked.status_code == 200 and "case:7" in page and "next purge" in page
        assert 'name="confirm" value="yes"' in page
        assert LegalHold.objects.get(pk=hold.pk).released_at is None
        c.post(reverse("retention:hold-release", args=[hold.pk]), {"confirm": "yes"})
        assert LegalHold.objects.get(pk=hold.pk).released_at is not None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class PurgeCommandConfirmationTests:
    def test_at_a_terminal_it_shows_the_dry_run_and_purges_nothing_without_the_word(self, monkeypatch):
        monkeypatch.setattr("sys.stdin", _Terminal("no\n"))
        out = io.StringIO()
        with pytest.raises(CommandError, match="Nothing was purged"):
            call_command("purge_expired", stdout=out)
        assert "deletes, for good" in out.getvalue() and "Technical identifiers" in out.getvalue()
        assert not PurgeRun.objects.filter(dry_run=False).exists()

    def test_the_word_or_yes_runs_it(self, monkeypatch):
        monkeypatch.setattr("sys.stdin", _Terminal("purge\n"))
        call_command("purge_expired", stdout=io.StringIO())
        assert PurgeRun.objects.filter(dry_run=False).count() == 1
        call_command("purge_expired", "--yes", stdout=io.StringIO())
        assert PurgeRun.objects.filter(dry_run=False).count() == 2
