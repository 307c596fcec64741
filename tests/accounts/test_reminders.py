"""The DPO is e-mailed about data-subject requests near or past their deadline and about breach clocks (24 h / 72 h)
that end before the authority was notified: once per item and stage, with ids and due times only."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.utils.timezone import now

from accounts.dsr.breaches import breach_incident_close, breach_incident_create, breach_notification_record
from accounts.dsr.services import dsr_request_complete, dsr_request_create, dsr_request_extend
from accounts.models import User
from accounts.dsr.models import BreachIncident, DataSubjectRequest
from accounts.dsr.reminders import breach_clocks_remind, dsr_deadlines_remind
from accounts.tasks import REMINDER_ACTOR, breach_clocks_remind_task, dsr_deadlines_remind_task
from tests.factories import make_user, verified_client
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Role

Kind = DataSubjectRequest.Kind


def _request_due(user, *, kind: str = Kind.RECTIFICATION, due, details: str = "My label is wrong") -> DataSubjectRequest:
    req = dsr_request_create(user=user, kind=kind, details=details)
    DataSubjectRequest.objects.filter(pk=req.pk).update(deadline=due)
    req.refresh_from_db()
    return req


def _breach(*, dpo, detected, telecom: bool, title: str = "Trunk logs readable") -> BreachIncident:
    return breach_incident_create(title=title, detected_at=detected, scope="Call records of one trunk",
                                  telecom_service=telecom, actor=dpo)


def _row(page: str, href: str) -> str:
    """The table row of the page that links to `href`."""
    return next(row for row in page.split("<tr") if f'href="{href}"' in row)


@pytest.mark.django_db
class DsrDeadlineReminderTests:
    def test_it_mails_the_dpo_once_when_due_soon_and_once_more_when_overdue(self, alice, dpo):
        moment = now()
        req = _request_due(alice, due=moment + timedelta(days=3))

        assert dsr_deadlines_remind(now=moment) == 1
        assert len(mail.outbox) == 1
        first = mail.outbox[0]
        assert first.to == [dpo.email]
        assert f"Request #{req.pk} (rectification) is due" in first.body and "OVERDUE" not in first.body
        assert f"/privacy-requests/dpo/{req.pk}/" in first.body

        assert dsr_deadlines_remind(now=moment + timedelta(hours=1)) == 0
        assert dsr_deadlines_remind(now=moment + timedelta(days=2)) == 0
        assert len(mail.outbox) == 1

        assert dsr_deadlines_remind(now=moment + timedelta(days=3, minutes=1)) == 1
        assert len(mail.outbox) == 2 and f"Request #{req.pk} (rectification) was due" in mail.outbox[1].body
        assert "OVERDUE" in mail.outbox[1].body

        assert dsr_deadlines_remind(now=moment + timedelta(days=10)) == 0
        assert len(mail.outbox) == 2

    def test_the_mail_names_no_personal_data_of_the_requester(self, dpo):
        requester = make_user("jansen.pieter", email="pieter.jansen@example.net", numbers=["+31205557788"])
        moment = now()
        _request_due(requester, due=moment + timedelta(days=2), details="Pieter Jansen, my label says Piet")
        _request_due(requester, kind=Kind.RESTRICTION, due=moment - timedelta(days=1))

        assert dsr_deadlines_remind(now=moment) == 2
        (message,) = mail.outbox
        text = f"{message.subject}\n{message.body}\n{message.to}".lower()
        for personal in ("jansen", "pieter", "piet", "example.net", "205557788", f"#{requester.pk})"):
            assert personal not in text

    def test_a_request_found_overdue_first_gets_the_overdue_mail_only(self, alice, dpo):
        moment = now()
        req = _request_due(alice, due=moment - timedelta(hours=2))
        assert dsr_deadlines_remind(now=moment) == 1
        assert dsr_deadlines_remind(now=moment + timedelta(days=1)) == 0
        assert len(mail.outbox) == 1 and f"Request #{req.pk} (rectification) was due" in mail.outbox[0].body
        assert DataSubjectRequest.objects.get(pk=req.pk).reminder_stage == "overdue"

    def test_it_leaves_requests_far_from_their_deadline_and_closed_ones(self, alice, dpo):
        moment = now()
        _request_due(alice, due=moment + timedelta(days=8))
        done = _request_due(alice, kind=Kind.RESTRICTION, due=moment - timedelta(days=1))
        dsr_request_complete(request=done, answer="Restricted.", actor=dpo, ground="legal_claims")
        assert dsr_deadlines_remind(now=moment) == 0
        assert mail.outbox == []

    def test_the_window_follows_the_setting(self, alice, dpo, settings):
        moment = now()
        _request_due(alice, due=moment + timedelta(days=3))
        settings.DSR_REMINDER_DAYS = 2
        assert dsr_deadlines_remind(now=moment) == 0
        settings.DSR_REMINDER_DAYS = 4
        assert dsr_deadlines_remind(now=moment) == 1

    def test_an_extension_restarts_the_reminders_for_the_new_deadline(self, alice, dpo):
        moment = now()
        req = _request_due(alice, due=moment + timedelta(days=3))
        assert dsr_deadlines_remind(now=moment) == 1
        req = dsr_request_extend(request=req, reason="The carrier's records take time.", actor=dpo)
        assert req.reminder_stage == ""
        assert dsr_deadlines_remind(now=moment) == 0  # the new deadline is two months away
        assert dsr_deadlines_remind(now=req.deadline - timedelta(days=1)) == 1
        assert len(mail.outbox) == 2 and f"Request #{req.pk} (rectification) is due" in mail.outbox[1].body

    def test_it_mails_only_active_dpos_with_an_address(self, alice, dpo, legal1):
        left = make_user("dpo.left", roles=(Role.DPO,))
        User.objects.filter(pk=left.pk).update(is_active=False)
        no_address = make_user("dpo.noaddress", roles=(Role.DPO,))
        User.objects.filter(pk=no_address.pk).update(email=None)
        _request_due(alice, due=now() + timedelta(days=1))
        assert dsr_deadlines_remind() == 1
        assert [m.to for m in mail.outbox] == [[dpo.email]]

    def test_without_a_dpo_address_nothing_is_recorded_and_a_later_run_sends(self, alice):
        moment = now()
        req = _request_due(alice, due=moment + timedelta(days=1))
        assert dsr_deadlines_remind(now=moment) == 0
        assert DataSubjectRequest.objects.get(pk=req.pk).reminder_stage == ""
        dpo = make_user("dpo.new", roles=(Role.DPO,))
        assert dsr_deadlines_remind(now=moment) == 1
        assert mail.outbox[0].to == [dpo.email]

    def test_each_reminder_leaves_a_pseudonymous_audit_entry(self, alice, dpo):
        moment = now()
        req = _request_due(alice, due=moment + timedelta(days=1))
        dsr_deadlines_remind(now=moment, actor=REMINDER_ACTOR)
        dsr_deadlines_remind(now=moment + timedelta(days=2), actor=REMINDER_ACTOR)
        entries = list(AuditEntry.objects.filter(action="dsr.reminder").order_by("id"))
        assert [(e.actor, e.target_type, e.target_id, e.extra["stage"]) for e in entries] == [
            ("system:dpo_reminders", "dsr", str(req.pk), "due_soon"), ("system:dpo_reminders", "dsr", str(req.pk), "overdue")]
        dumped = json.dumps([e.extra for e in entries])
        assert alice.email not in dumped and dpo.email not in dumped

    def test_the_task_takes_no_arguments_and_returns_json(self, alice, dpo):
        _request_due(alice, due=now() + timedelta(days=1))
        result = dsr_deadlines_remind_task()
        assert json.loads(json.dumps(result)) == {"reminded": 1}
        assert AuditEntry.objects.filter(action="dsr.reminder", actor="system:dpo_reminders").count() == 1


@pytest.mark.django_db
class BreachClockReminderTests:
    def test_a_telecom_clock_is_reminded_once_before_and_once_after_its_24_hours(self, dpo):
        moment = now()
        inc = _breach(dpo=dpo, detected=moment - timedelta(hours=20), telecom=True)

        assert breach_clocks_remind(now=moment - timedelta(hours=3)) == 0  # 7 hours left, over the 6-hour warning
        assert breach_clocks_remind(now=moment) == 1
        assert breach_clocks_remind(now=moment + timedelta(hours=1)) == 0
        assert len(mail.outbox) == 1 and mail.outbox[0].to == [dpo.email]
        assert f"Breach #{inc.pk}: the 24-hour clock to notify the authority ends" in mail.outbox[0].body

        assert breach_clocks_remind(now=moment + timedelta(hours=4, minutes=1)) == 1
        assert breach_clocks_remind(now=moment + timedelta(hours=30)) == 0
        assert len(mail.outbox) == 2 and "OVERDUE" in mail.outbox[1].body
        assert f"/privacy-requests/dpo/breaches/{inc.pk}/" in mail.outbox[1].body

    def test_other_breaches_run_on_72_hours(self, dpo):
        moment = now()
        inc = _breach(dpo=dpo, detected=moment - timedelta(hours=20), telecom=False)
        assert breach_clocks_remind(now=moment) == 0
        assert breach_clocks_remind(now=moment + timedelta(hours=47)) == 1
        assert f"Breach #{inc.pk}: the 72-hour clock" in mail.outbox[0].body

    def test_after_an_initial_notice_the_full_one_is_reminded(self, dpo):
        moment = now()
        inc = _breach(dpo=dpo, detected=moment - timedelta(hours=10), telecom=True)
        breach_notification_record(incident=inc, recipient="authority", stage="initial", reference="AP-8",
                                   sent_at=moment - timedelta(hours=2), actor=dpo)
        assert breach_clocks_remind(now=moment) == 0  # 70 hours to the full notification
        assert breach_clocks_remind(now=moment + timedelta(hours=66)) == 1
        assert breach_clocks_remind(now=moment + timedelta(hours=71)) == 1
        assert len(mail.outbox) == 2 and "full notification to the authority" in mail.outbox[0].body
        assert "OVERDUE" in mail.outbox[1].body

    def test_a_notified_or_closed_incident_is_not_reminded(self, dpo):
        moment = now()
        told = _breach(dpo=dpo, detected=moment - timedelta(hours=30), telecom=True)
        breach_notification_record(incident=told, recipient="authority", stage="initial", reference="AP-7",
                                   sent_at=now(), actor=dpo)
        closed = _breach(dpo=dpo, detected=moment - timedelta(hours=30), telecom=True)
        breach_incident_close(incident=closed, authority_not_notified_reason="Unlikely to result in a risk.",
                              users_not_notified_reason="No risk.", actor=dpo)
        assert breach_clocks_remind(now=moment) == 0
        assert mail.outbox == []

    def test_the_mail_names_the_incident_by_id_only(self, dpo):
        moment = now()
        _breach(dpo=dpo, detected=moment - timedelta(hours=23), telecom=True, title="Mailbox of J. de Vries forwarded")
        assert breach_clocks_remind(now=moment) == 1
        text = f"{mail.outbox[0].subject}\n{mail.outbox[0].body}".lower()
        assert "vries" not in text and "call records" not in text
        entry = AuditEntry.objects.get(action="breach.reminder")
        assert entry.extra == {"stage": "due_soon", "recipients": 1}

    def test_the_window_follows_the_setting_and_the_task_returns_json(self, dpo, settings):
        _breach(dpo=dpo, detected=now() - timedelta(hours=14), telecom=True)  # 10 hours left
        assert breach_clocks_remind_task() == {"reminded": 0}
        settings.BREACH_REMINDER_HOURS = 12
        assert breach_clocks_remind_task() == {"reminded": 1}


@pytest.mark.django_db
class ReminderPagesTests:
    def test_the_request_list_marks_overdue_and_due_soon_requests(self, client, alice, bob, dpo):
        late = _request_due(alice, due=now() - timedelta(hours=1))
        soon = _request_due(bob, due=now() + timedelta(days=3))
        later = _request_due(alice, kind=Kind.RESTRICTION, due=now() + timedelta(days=20))
        verified_client(client, dpo)
        page = client.get("/privacy-requests/dpo/").content.decode()
        late_row, soon_row = _row(page, f"/privacy-requests/dpo/{late.pk}/"), _row(page, f"/privacy-requests/dpo/{soon.pk}/")
        later_row = _row(page, f"/privacy-requests/dpo/{later.pk}/")
        assert "Overdue" in late_row and "Due soon" not in late_row
        assert "Due soon" in soon_row and "Overdue" not in soon_row
        assert "Overdue" not in later_row and "Due soon" not in later_row
        detail = client.get(f"/privacy-requests/dpo/{late.pk}/").content.decode()
        assert re.search(r"Deadline</dt><dd>[^<]*<span class=\"badge err\">Overdue</span>", detail)

    def test_the_breach_register_marks_clocks_ending_or_ended(self, client, dpo):
        late = _breach(dpo=dpo, detected=now() - timedelta(hours=25), telecom=True)
        soon = _breach(dpo=dpo, detected=now() - timedelta(hours=70), telecom=False)
        told = _breach(dpo=dpo, detected=now() - timedelta(hours=30), telecom=True)
        breach_notification_record(incident=told, recipient="authority", stage="initial", reference="AP-8",
                                   sent_at=now(), actor=dpo)
        verified_client(client, dpo)
        page = client.get("/privacy-requests/dpo/breaches/").content.decode()
        assert "Overdue" in _row(page, f"/privacy-requests/dpo/breaches/{late.pk}/")
        assert "Due soon" in _row(page, f"/privacy-requests/dpo/breaches/{soon.pk}/")
        told_row = _row(page, f"/privacy-requests/dpo/breaches/{told.pk}/")
        assert "Overdue" not in told_row and "Due soon" not in told_row


class ReminderScheduleTests:
    def test_beat_runs_both_reminders_every_hour(self):
        from voipxs.celery import app

        by_task = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        for task in ("accounts.tasks.dsr_deadlines_remind_task", "accounts.tasks.breach_clocks_remind_task"):
            schedule = by_task[task]
            assert isinstance(schedule, crontab) and schedule.hour == set(range(24)) and len(schedule.minute) == 1
            assert task in app.tasks
