"""Restriction (GDPR art. 18) made complete: the DPO records its ground of art. 18(1) and its last day when
completing the request; lifts it only after the person was told (art. 18(3)), by an e-mail that names nothing
but the restriction; never lifts an erased account's; is reminded once of a restriction past its last day;
and the person's export says whether, since when, on what ground and until when they are restricted."""
from __future__ import annotations

import json
import smtplib
from datetime import datetime, time, timedelta
from unittest.mock import patch

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils.formats import date_format
from django.utils.timezone import localdate, make_aware, now

from accounts.dsr.models import DataSubjectRequest, Restriction
from accounts.dsr.reminders import restriction_ends_remind
from accounts.dsr.restriction import (
    END_IN_PAST, END_REQUIRED, ERASED, GROUND_REQUIRED, NO_EMAIL, NOTICE_NOT_SENT, restriction_lift,
    restriction_lift_notice_request,
)
from accounts.dsr.restriction_mail import RestrictionNoticeMailError
from accounts.dsr.selectors import restriction_get, restriction_list_active
from accounts.dsr.services import (
    dsr_request_complete, dsr_request_create, dsr_restriction_apply, dsr_restriction_lift,
)
from accounts.models import User
from accounts.tasks import restriction_ends_remind_task, restriction_lift_notice_task
from tests.accounts.dsr_helpers import export_json, schema_validate, section
from tests.factories import PASSWORD, make_user, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import target_ref
from voipxs.privacy.models import AuditEntry

Kind = DataSubjectRequest.Kind
Ground = Restriction.Ground
PAGE = "/privacy-requests/dpo/restrictions/"

pytestmark = pytest.mark.django_db


def _asked(user) -> DataSubjectRequest:
    return dsr_request_create(user=user, kind=Kind.RESTRICTION, details="My address is wrong, check it first")


def _restricted(user, dpo, *, ground=Ground.ACCURACY_CONTESTED, days: int | None = 14) -> Restriction:
    ends_on = localdate() + timedelta(days=days) if days is not None else None
    dsr_request_complete(request=_asked(user), answer="Restricted while we check.", actor=dpo, ground=ground,
                         ends_on=ends_on)
    return Restriction.objects.get(user=user, lifted_at__isnull=True)


def _told(restriction: Restriction, dpo, capture) -> Restriction:
    with capture(execute=True):
        restriction_lift_notice_request(restriction=restriction, actor=dpo)
    restriction.refresh_from_db()
    return restriction


def _erase(user) -> None:
    dsr_request_create(user=user, kind=Kind.ERASURE, password=PASSWORD)


class RestrictionTermsTests:
    def test_completing_it_records_the_ground_and_last_day_audited_without_free_text(self, alice, dpo):
        last_day = localdate() + timedelta(days=30)
        req = _asked(alice)
        done = dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo,
                                    ground=Ground.ACCURACY_CONTESTED, ends_on=last_day)

        restriction = Restriction.objects.get(user=alice)
        assert (restriction.ground, restriction.ends_on) == ("accuracy_contested", last_day)
        assert restriction.request_id == req.pk
        assert restriction.lifted_at is None and restriction.lift_notice_sent_at is None
        assert done.outcome["ground"] == "accuracy_contested" and done.outcome["ends_on"] == last_day.isoformat()
        entry = AuditEntry.objects.get(action="dsr.restriction_terms")
        assert entry.extra == {"restriction": restriction.pk, "request": req.pk, "ground": "accuracy_contested",
                               "ends_on": last_day.isoformat()}
        assert "address" not in json.dumps(entry.extra)  # the person's own words stay out of the audit log

    @pytest.mark.parametrize("ground", [Ground.ACCURACY_CONTESTED, Ground.OBJECTION_PENDING])
    def test_a_ground_that_lasts_while_checked_needs_a_last_day(self, alice, dpo, ground):
        req = _asked(alice)
        with pytest.raises(ApplicationError) as refused:
            dsr_request_complete(request=req, answer="Restricted.", actor=dpo, ground=ground)
        assert refused.value.message == str(END_REQUIRED) and refused.value.extra["field"] == "ends_on"
        assert not Restriction.objects.exists()
        assert User.objects.get(pk=alice.pk).restricted_at is None  # nothing marked either
        assert DataSubjectRequest.objects.get(pk=req.pk).is_open

    @pytest.mark.parametrize("ground", [Ground.UNLAWFUL, Ground.LEGAL_CLAIMS])
    def test_the_other_grounds_may_have_no_end(self, alice, dpo, ground):
        dsr_request_complete(request=_asked(alice), answer="Restricted.", actor=dpo, ground=ground)
        assert Restriction.objects.get(user=alice).ends_on is None

    def test_it_refuses_no_ground_and_a_last_day_in_the_past(self, alice, dpo):
        req = _asked(alice)
        with pytest.raises(ApplicationError) as no_ground:
            dsr_request_complete(request=req, answer="Restricted.", actor=dpo, ends_on=localdate())
        assert no_ground.value.message == str(GROUND_REQUIRED) and no_ground.value.extra["field"] == "ground"
        with pytest.raises(ApplicationError) as past:
            dsr_request_complete(request=req, answer="Restricted.", actor=dpo, ground=Ground.LEGAL_CLAIMS,
                                 ends_on=localdate() - timedelta(days=1))
        assert past.value.message == str(END_IN_PAST) and past.value.extra["field"] == "ends_on"
        assert not Restriction.objects.exists()

    def test_a_new_decision_replaces_the_terms_and_voids_an_earlier_notice(self, alice, dpo,
                                                                           django_capture_on_commit_callbacks):
        first = _told(_restricted(alice, dpo), dpo, django_capture_on_commit_callbacks)
        assert first.lift_notice_sent_at is not None
        again = _restricted(alice, dpo, ground=Ground.LEGAL_CLAIMS, days=None)
        assert again.pk == first.pk and Restriction.objects.filter(user=alice).count() == 1
        assert (again.ground, again.ends_on, again.lift_notice_sent_at) == ("legal_claims", None, None)


class RestrictionLiftTests:
    def test_the_lift_is_refused_before_the_notice_and_done_after_it(self, alice, dpo,
                                                                      django_capture_on_commit_callbacks):
        restriction = _restricted(alice, dpo)
        with pytest.raises(ApplicationError) as refused:
            restriction_lift(restriction=restriction, actor=dpo)
        assert refused.value.message == str(NOTICE_NOT_SENT)
        assert refused.value.extra["field"] == "lift_notice_sent_at"
        assert User.objects.get(pk=alice.pk).restricted_at is not None

        restriction = _told(restriction, dpo, django_capture_on_commit_callbacks)
        lifted = restriction_lift(restriction=restriction, actor=dpo)

        assert lifted.lifted_at is not None and User.objects.get(pk=alice.pk).restricted_at is None
        entry = AuditEntry.objects.get(action="dsr.restriction_lifted")
        assert entry.extra["restriction"] == restriction.pk and entry.extra["ground"] == "accuracy_contested"
        assert entry.extra["notice_sent_at"] == restriction.lift_notice_sent_at.isoformat()

    def test_the_notice_tells_the_person_and_nothing_more_audited(self, dpo, django_capture_on_commit_callbacks):
        person = make_user("jansen.pieter", email="pieter.jansen@example.net", numbers=["+31205557788"])
        restriction = _told(_restricted(person, dpo), dpo, django_capture_on_commit_callbacks)

        (message,) = mail.outbox
        assert message.to == ["pieter.jansen@example.net"]
        assert "restriction" in message.subject.lower() and "will be lifted" in message.subject
        assert str(Ground.ACCURACY_CONTESTED.label) in message.body and "/privacy-requests/" in message.body
        text = f"{message.subject}\n{message.body}".lower()
        for personal in ("jansen", "pieter", "example.net", "205557788", "address is wrong"):
            assert personal not in text
        assert restriction.lift_notice_sent_at is not None
        sent = AuditEntry.objects.get(action="dsr.restriction_notice_sent")
        assert sent.target_id == target_ref("user", person.pk) and sent.extra == {"restriction": restriction.pk}
        assert sent.purpose == "legal_obligation"
        assert AuditEntry.objects.filter(action="dsr.restriction_notice_request").count() == 1

    def test_a_mail_failure_names_the_user_id_only_and_records_nothing(self, alice, dpo):
        restriction = _restricted(alice, dpo)
        refused = smtplib.SMTPRecipientsRefused({"alice@example.org": (550, b"no such user")})
        with patch("voipxs.mail.send_mail", side_effect=refused):
            with pytest.raises(RestrictionNoticeMailError) as error:
                restriction_lift_notice_task(alice.pk)
        assert str(error.value) == f"restriction notice to user {alice.pk} failed (SMTPRecipientsRefused)"
        assert error.value.__cause__ is None and error.value.__suppress_context__
        restriction.refresh_from_db()
        assert restriction.lift_notice_sent_at is None
        assert not AuditEntry.objects.filter(action="dsr.restriction_notice_sent").exists()
        assert restriction_lift_notice_task.autoretry_for == (RestrictionNoticeMailError,)
        assert restriction_lift_notice_task.max_retries == 5

    def test_the_task_sends_once_however_often_it_arrives(self, alice, dpo):
        _restricted(alice, dpo)
        assert restriction_lift_notice_task(alice.pk) is True
        assert restriction_lift_notice_task(alice.pk) is False
        assert len(mail.outbox) == 1

    def test_an_erased_account_is_refused_both_steps(self, alice, dpo, django_capture_on_commit_callbacks):
        restriction = _told(_restricted(alice, dpo), dpo, django_capture_on_commit_callbacks)
        _erase(alice)
        assert User.objects.get(pk=alice.pk).anonymised_at is not None
        for step in (restriction_lift_notice_request, restriction_lift):
            with pytest.raises(ApplicationError) as refused:
                step(restriction=restriction, actor=dpo)
            assert refused.value.message == str(ERASED) and refused.value.extra["field"] == "account"
        with pytest.raises(ApplicationError, match="erased"):
            dsr_restriction_lift(user=alice, actor=dpo)  # nor through the mark service itself
        assert User.objects.get(pk=alice.pk).restricted_at is not None
        assert Restriction.objects.get(pk=restriction.pk).lifted_at is None

    def test_a_restriction_from_before_grounds_were_recorded_is_told_and_lifted_too(self, alice, dpo):
        dsr_restriction_apply(user=alice, actor=dpo)  # as migration 0018 found it: marked, no ground
        legacy = Restriction.objects.create(user=alice)
        assert restriction_lift_notice_task(alice.pk) is True
        assert "restriction of processing" in mail.outbox[0].body
        restriction_lift(restriction=legacy, actor=dpo)
        assert User.objects.get(pk=alice.pk).restricted_at is None

    def test_an_account_without_an_address_cannot_be_told_by_e_mail(self, alice, dpo):
        restriction = _restricted(alice, dpo)
        User.objects.filter(pk=alice.pk).update(email=None)
        with pytest.raises(ApplicationError) as refused:
            restriction_lift_notice_request(restriction=restriction, actor=dpo)
        assert refused.value.message == str(NO_EMAIL) and refused.value.extra["field"] == "email"

    def test_an_erased_account_is_not_told_by_a_late_task(self, alice, dpo):
        _restricted(alice, dpo)
        _erase(alice)
        assert restriction_lift_notice_task(alice.pk) is False
        assert mail.outbox == []


class RestrictionReminderTests:
    def test_the_dpo_is_mailed_once_per_restriction_past_its_last_day_with_ids_and_dates_only(self, dpo):
        person = make_user("jansen.pieter", email="pieter.jansen@example.net")
        overdue = _restricted(person, dpo, days=1)
        running = _restricted(make_user("dora"), dpo, days=30)
        endless = _restricted(make_user("erik"), dpo, ground=Ground.LEGAL_CLAIMS, days=None)
        today = now()

        assert restriction_ends_remind(now=today) == 1  # its last day is tomorrow: due soon (test_restriction_end)
        mail.outbox.clear()
        assert restriction_ends_remind(now=today + timedelta(days=2)) == 1
        (message,) = mail.outbox
        assert message.to == [dpo.email]
        assert f"Restriction #{overdue.pk} (account #{person.pk})" in message.body
        assert date_format(overdue.ends_on, "DATE_FORMAT") in message.body and "person not told yet" in message.body
        assert f"#{running.pk} " not in message.body and f"#{endless.pk} " not in message.body
        text = f"{message.subject}\n{message.body}".lower()
        for personal in ("jansen", "pieter", "example.net", "accuracy", "address"):
            assert personal not in text

        # Once, not daily: the next days' runs send nothing more about it.
        assert restriction_ends_remind(now=today + timedelta(days=3)) == 0
        assert restriction_ends_remind(now=today + timedelta(days=4)) == 0
        assert len(mail.outbox) == 1
        assert AuditEntry.objects.filter(action="restriction.reminder", extra__stage="overdue").count() == 1

        # A new decision with a new last day is reminded of again: when it is near, and once it has passed.
        _restricted(person, dpo, days=5)
        assert restriction_ends_remind(now=today + timedelta(days=4)) == 1
        assert "ends soon" in mail.outbox[-1].body
        assert restriction_ends_remind(now=today + timedelta(days=6)) == 1
        assert "not lifted" in mail.outbox[-1].body
        assert len(mail.outbox) == 3

    def test_the_last_day_itself_is_not_past(self, alice, dpo):
        restriction = _restricted(alice, dpo, days=1)
        last_day = datetime.combine(restriction.ends_on, time(23, 59))
        assert restriction_ends_remind(now=make_aware(last_day)) == 1
        assert Restriction.objects.get(pk=restriction.pk).reminder_stage == "due_soon"  # near, not past
        assert restriction_ends_remind(now=make_aware(last_day + timedelta(minutes=2))) == 1
        assert Restriction.objects.get(pk=restriction.pk).reminder_stage == "overdue"

    def test_lifted_and_erased_restrictions_are_not_reminded_of(self, alice, dpo, django_capture_on_commit_callbacks):
        lifted = _told(_restricted(alice, dpo, days=1), dpo, django_capture_on_commit_callbacks)
        restriction_lift(restriction=lifted, actor=dpo)
        erased = make_user("dora")
        _restricted(erased, dpo, days=1)
        _erase(erased)
        mail.outbox.clear()
        assert restriction_ends_remind(now=now() + timedelta(days=3)) == 0
        assert mail.outbox == []

    def test_the_daily_task_runs_the_reminder(self, alice, dpo):
        with patch("accounts.tasks.restriction_ends_remind", return_value=2) as remind:
            assert restriction_ends_remind_task() == {"reminded": 2}
        assert remind.call_args.kwargs["actor"].name == "dpo_reminders"


class RestrictionPageTests:
    def test_the_dpo_tells_then_lifts_each_after_a_confirmation_page(self, client, alice, bob, dpo,
                                                                     django_capture_on_commit_callbacks):
        restriction = _restricted(alice, dpo)
        verified_client(client, dpo)
        page = client.get(PAGE).content.decode()
        assert f'id="restriction-{restriction.pk}"' in page and f"#{alice.pk}" in page
        assert "alice" not in page and "@example.org" not in page  # pseudonymous: ids, grounds, dates

        early = client.post(PAGE, {"action": "lift", "restriction": restriction.pk})
        assert early.status_code == 400 and "Person told:" in early.content.decode()

        asked = client.post(PAGE, {"action": "notify", "restriction": restriction.pk})
        assert asked.status_code == 200 and 'name="confirm"' in asked.content.decode() and mail.outbox == []
        with django_capture_on_commit_callbacks(execute=True):
            told = client.post(PAGE, {"action": "notify", "restriction": restriction.pk, "confirm": "yes"})
        assert told.status_code == 302 and len(mail.outbox) == 1

        asked = client.post(PAGE, {"action": "lift", "restriction": restriction.pk})
        assert asked.status_code == 200 and 'name="confirm"' in asked.content.decode()
        assert User.objects.get(pk=alice.pk).restricted_at is not None
        lifted = client.post(PAGE, {"action": "lift", "restriction": restriction.pk, "confirm": "yes"})
        assert lifted.status_code == 302 and User.objects.get(pk=alice.pk).restricted_at is None
        assert f'id="restriction-{restriction.pk}"' not in client.get(PAGE).content.decode()

    def test_an_erased_account_is_not_listed_and_its_steps_are_refused(self, client, alice, dpo):
        restriction = _restricted(alice, dpo)
        _erase(alice)
        verified_client(client, dpo)
        assert f'id="restriction-{restriction.pk}"' not in client.get(PAGE).content.decode()
        for step in ("notify", "lift"):
            refused = client.post(PAGE, {"action": step, "restriction": restriction.pk, "confirm": "yes"})
            assert refused.status_code == 400 and "was erased" in refused.content.decode()
        assert mail.outbox == []

    def test_bad_input_is_a_400_or_404_never_a_500(self, client, dpo):
        verified_client(client, dpo)
        assert client.post(PAGE, {"action": "lift", "restriction": "x"}).status_code == 400
        assert client.post(PAGE, {"action": "other", "restriction": "1"}).status_code == 400
        assert client.post(PAGE, {}).status_code == 400
        assert client.post(PAGE, {"action": "lift", "restriction": "999999"}).status_code == 404

    def test_only_the_dpo_reaches_the_page(self, client, alice, dpo, legal1, support):
        restriction = _restricted(alice, dpo)
        for user in (alice, legal1, support):
            verified_client(client, user)
            assert client.get(PAGE).status_code == 403, user
            assert client.post(PAGE, {}).status_code == 403, user  # refused before the form is read
            assert client.post(PAGE, {"action": "notify", "restriction": restriction.pk,
                                      "confirm": "yes"}).status_code == 403, user
            client.logout()
        assert client.get(PAGE).status_code == 302  # signed out: to the sign-in page
        assert mail.outbox == [] and Restriction.objects.get(pk=restriction.pk).lift_notice_sent_at is None

    def test_the_selectors_are_the_dpos_only(self, alice, dpo, legal1, support):
        restriction = _restricted(alice, dpo)
        for user in (alice, legal1, support):
            with pytest.raises(PermissionDenied):
                restriction_get(actor=user, restriction_id=restriction.pk)
            with pytest.raises(PermissionDenied):
                restriction_list_active(actor=user)
        assert restriction_get(actor=dpo, restriction_id=restriction.pk) == restriction
        assert AuditEntry.objects.filter(action="restriction.get", purpose="legal_obligation").exists()

    @pytest.mark.parametrize("language, words", [("en", ("Restrictions", "Tell the person")),
                                                 ("nl", ("Gegevensbescherming",))])
    def test_the_pages_render_in_english_and_dutch(self, client, alice, dpo, language, words):
        restriction = _restricted(alice, dpo)
        req = _asked(alice)
        verified_client(client, dpo)
        page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE=language)
        assert page.status_code == 200 and page["Content-Language"] == language
        for word in words:
            assert word in page.content.decode()
        form = client.get(f"/privacy-requests/dpo/{req.pk}/", HTTP_ACCEPT_LANGUAGE=language)
        assert form.status_code == 200 and 'name="ground"' in form.content.decode()
        assert 'name="ends_on"' in form.content.decode() and restriction.ground in form.content.decode()

    def test_the_request_page_completes_with_ground_and_end_and_names_the_missing_field(self, client, alice, dpo):
        req = _asked(alice)
        verified_client(client, dpo)
        url = f"/privacy-requests/dpo/{req.pk}/"
        missing = client.post(url, {"action": "complete", "answer": "Restricted.", "ground": "objection_pending"})
        assert missing.status_code == 400 and "End date" in missing.content.decode()
        bad = client.post(url, {"action": "complete", "answer": "Restricted.", "ground": "objection_pending",
                                "ends_on": "not-a-date"})
        assert bad.status_code == 400 and "End date" in bad.content.decode()
        assert not Restriction.objects.exists()
        last_day = localdate() + timedelta(days=20)
        done = client.post(url, {"action": "complete", "answer": "Restricted.", "ground": "objection_pending",
                                 "ends_on": last_day.isoformat(), "confirm": "yes"})
        assert done.status_code == 302
        restriction = Restriction.objects.get(user=alice)
        assert (restriction.ground, restriction.ends_on) == ("objection_pending", last_day)


class RestrictionExportTests:
    def test_the_export_says_whether_since_when_on_what_ground_and_until_when(self, alice, dpo,
                                                                              django_capture_on_commit_callbacks):
        restriction = _restricted(alice, dpo, ground=Ground.OBJECTION_PENDING, days=21)
        since = User.objects.get(pk=alice.pk).restricted_at
        with django_capture_on_commit_callbacks(execute=True):
            req = dsr_request_create(user=alice, kind=Kind.ACCESS)
        data = export_json(req.exports.get())
        (profile,) = section(data, "profile")["rows"]
        assert profile["restricted"] is True and profile["restricted_since"] == since.isoformat()
        assert profile["restriction_ground"] == "objection_pending"
        assert profile["restricted_until"] == restriction.ends_on.isoformat()
        schema_validate(data)

    def test_an_unrestricted_person_reads_not_restricted(self, alice, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            req = dsr_request_create(user=alice, kind=Kind.ACCESS)
        (profile,) = section(export_json(req.exports.get()), "profile")["rows"]
        assert (profile["restricted"], profile["restricted_since"], profile["restriction_ground"],
                profile["restricted_until"]) == (False, None, "", None)
