"""LEGAL.md section 5 row 21: what the retention purge writes to the audit log says which purpose it served.
Deleting what no purpose needs any more is a legal obligation (GDPR art. 5(1)(e), Tw art. 11.5(1)), so every
entry of a run, and of the steps it asks other apps for, records `legal_obligation`, as the DPO's filter shows it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from axes.models import AccessAttempt
from django.utils.timezone import now

from accounts.models import AccountCloseReason, User
from accounts.services.closing import account_close
from retention.purge.rules import shift_months
from retention.purge.run import purge_expired
from retention.purge.runs import RUN_FAILED_ACTION
from tests.factories import make_cdr
from tests.retention.helpers import at, make_invoice
from tests.traffic.test_import_recovery import master_csv, queued_upload
from traffic.models import MonthKey
from traffic.services.sources import source_create
from voipxs.models import AuditEntry

LEGAL = "legal_obligation"


class WorkerDied(Exception):
    pass


def _since(start: int):
    return AuditEntry.objects.filter(pk__gt=start).order_by("pk")


def _last_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def private_dir(tmp_path, settings):
    settings.PRIVATE_FILES_DIR = tmp_path
    return tmp_path


@pytest.fixture
def pbx(db):
    return source_create(name="pbx-upload", format="asterisk-csv", timezone="Europe/Amsterdam")


@pytest.fixture
def due_on_july_first(alice, bob, billing_staff):
    """What the run of 2026-07-01 removes: bob's free call of March (unbilled, 3 months), and with it March's
    month key; alice's account, closed in February, its final invoice paid in March (closed_account, 30 days);
    a failed sign-in of May (technical identifiers, 30 days)."""
    make_invoice(account=alice, period=date(2026, 1, 1), status="paid")
    make_invoice(account=alice, period=date(2026, 2, 1), status="paid")
    account_close(user=alice, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
    User.objects.filter(pk=alice.pk).update(closed_at=at(2026, 2, 10))
    free = make_cdr(account=bob, src="+31205550201", started_at=at(2026, 3, 5), rating="free")
    attempt = AccessAttempt.objects.create(username="nobody", ip_address="192.0.2.7", user_agent="test",
                                           http_accept="", path_info="/accounts/login/", get_data="", post_data="",
                                           failures_since_start=1)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=at(2026, 5, 1))
    return free


@pytest.mark.django_db
class PurgeAuditPurposeTests:
    def test_every_entry_of_a_daily_run_records_the_legal_obligation(self, due_on_july_first):
        start = _last_id()
        purge_expired(now=at(2026, 7, 1))

        entries = list(_since(start))
        assert {e.action for e in entries} >= {"retention.purge", "month_key.destroy", "account.anonymise",
                                               "login_attempts.purge"}
        assert {(e.action, e.purpose) for e in entries if e.purpose != LEGAL} == set()
        assert MonthKey.objects.get(month=date(2026, 3, 1)).wrapped_key is None  # the key really went
        assert User.objects.get(username__startswith="erased-").anonymised_at is not None

    def test_a_dry_run_records_it_with_the_person_who_asked(self, due_on_july_first, dpo):
        from voipxs.privacy.audit import actor_ref

        start = _last_id()
        purge_expired(now=at(2026, 7, 1), dry_run=True, actor=dpo)

        [entry] = _since(start)
        assert (entry.action, entry.purpose, entry.actor) == ("retention.purge_dry_run", LEGAL, actor_ref(dpo))

    def test_a_run_that_fails_records_it_on_its_failure_entry(self, due_on_july_first):
        def die_at_the_first_batch(step: str) -> None:
            if step.startswith(("batch:", "month:")):  # PostgreSQL takes the month whole, SQLite in batches
                raise WorkerDied()

        start = _last_id()
        with pytest.raises(WorkerDied):
            purge_expired(now=at(2026, 7, 1), fault=die_at_the_first_batch)

        failed = _since(start).get(action=RUN_FAILED_ACTION)
        assert failed.purpose == LEGAL and failed.extra["step"]
        assert not _since(start).exclude(purpose=LEGAL).exists()

    def test_the_audit_logs_own_trim_records_it(self):
        moment = now() + timedelta(days=6 * 365)  # the fixtures' own entries are past the five years by then
        AuditEntry.objects.create(actor="system:test", action="test.old", created_at=shift_months(moment, -61))

        purge_expired(now=moment)

        [trim] = AuditEntry.objects.filter(action="audit.trim")
        assert trim.purpose == LEGAL and trim.extra["deleted"] >= 1

    def test_a_stored_upload_that_goes_records_it_on_the_import_it_fails_too(
            self, pbx, private_dir, django_capture_on_commit_callbacks):
        queued = queued_upload(pbx, master_csv(2), django_capture_on_commit_callbacks)
        start = _last_id()

        with django_capture_on_commit_callbacks(execute=True):
            purge_expired(now=now() + timedelta(days=31))

        mine = _since(start).filter(target_type="cdr_import", target_id=str(queued.pk))
        assert sorted(mine.values_list("action", "purpose")) == [("cdr_import.failed", LEGAL),
                                                                 ("cdr_import.upload_deleted", LEGAL)]

    def test_the_export_files_that_expire_record_it(self, alice, settings, tmp_path,
                                                    django_capture_on_commit_callbacks):
        from accounts.dsr.export import dsr_exports_purge
        from accounts.dsr.models import DataSubjectRequest
        from accounts.dsr.services import dsr_request_create
        from traffic.models import CallExport
        from traffic.services.call_exports import call_export_request, call_exports_delete_expired

        settings.PRIVATE_FILES_DIR = tmp_path
        make_cdr(account=alice)
        with django_capture_on_commit_callbacks(execute=True):
            dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS)
            export = call_export_request(owner=alice)
        CallExport.objects.filter(pk=export.pk).update(expires_at=now() - timedelta(seconds=1))

        assert dsr_exports_purge(now=now() + timedelta(days=8))["deleted"] == 1
        assert call_exports_delete_expired(before=now()) == 1

        purges = AuditEntry.objects.filter(action__in=["dsr.exports_purge", "call_export.purge"])
        assert sorted(purges.values_list("action", "purpose")) == [("call_export.purge", LEGAL),
                                                                   ("dsr.exports_purge", LEGAL)]


@pytest.mark.postgres
@pytest.mark.django_db
class MonthDropAuditPurposeTests:
    def test_a_whole_month_shredded_at_once_records_it(self, alice):
        make_cdr(account=alice, started_at=at(2026, 1, 13), rating="free")

        purge_expired(now=at(2026, 8, 2))

        drop = AuditEntry.objects.get(action="retention.month_drop", target_id="2026-01")
        key = AuditEntry.objects.get(action="month_key.destroy", target_id="2026-01-01")
        assert (drop.purpose, key.purpose) == (LEGAL, LEGAL)
