"""Moving a restriction's end date after the person was told of the lift (GDPR art. 18(3)): the notice named a lift
that no longer comes then, so it is withdrawn (the lift waits for a new one), the person is e-mailed in their
language that the restriction continues, the audit entry records both with codes, ids and dates, and the DPO's
pages say a new notice is needed. Without a notice given, only the date changes."""
from __future__ import annotations

import json
import re
import smtplib
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localdate, now
from django.utils.translation import gettext

from accounts.dsr.models import Restriction
from accounts.dsr.restriction import (
    NOTICE_NOT_SENT, NOTICE_WITHDRAWN, restriction_end_change, restriction_lift, restriction_lift_notice_record,
    restriction_lift_notice_request,
)
from accounts.dsr.restriction_mail import RestrictionNoticeMailError, restriction_notices_requeue
from accounts.models import User
from accounts.services.users import user_language_set
from accounts.tasks import restriction_continuation_notice_task, restriction_lift_notice_task
from tests.accounts.test_restriction_end import _person, _restricted
from tests.broker import broker_outage
from tests.factories import make_user, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

Ground = Restriction.Ground
Reason = Restriction.EndChangeReason
PAGE = "/privacy-requests/dpo/restrictions/"
LATER = timedelta(minutes=10)  # past TASK_RESEND_AFTER_SECONDS (5 minutes)

pytestmark = pytest.mark.django_db


def _told(restriction: Restriction, dpo) -> Restriction:
    """The DPO asks for the e-mail of art. 18(3), and the task sends it."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        restriction_lift_notice_request(restriction=restriction, actor=dpo)
    restriction.refresh_from_db()
    assert restriction.lift_notice_sent_at is not None
    return restriction


def _moved(restriction: Restriction, dpo, *, days: int | None = 40, reason=Reason.CHECK_LONGER) -> Restriction:
    """The DPO moves the last day; what it queues after the commit runs (the continuation e-mail)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        restriction_end_change(restriction=restriction, ends_on=localdate() + timedelta(days=days) if days else None,
                               reason=reason, actor=dpo)
    restriction.refresh_from_db()
    return restriction


def _row(page: str, restriction: Restriction) -> str:
    match = re.search(rf'<tr id="restriction-{restriction.pk}"[^>]*>.*?</tr>', page, re.DOTALL)
    assert match, f"restriction #{restriction.pk} not listed"
    return match.group(0)


class EndChangeWithdrawsTheNoticeTests:
    def test_after_the_end_moved_the_lift_is_refused_until_a_new_notice(self, dpo):
        person = _person()
        restriction = _moved(_told(_restricted(person, dpo), dpo), dpo)

        assert restriction.lift_notice_sent_at is None and restriction.lift_notice_withdrawn_at is not None
        with pytest.raises(ApplicationError) as refused:
            restriction_lift(restriction=restriction, actor=dpo)
        assert refused.value.message == str(NOTICE_WITHDRAWN)
        assert refused.value.extra["field"] == "lift_notice_sent_at"
        assert User.objects.get(pk=person.pk).restricted_at is not None

        restriction = _told(restriction, dpo)  # a fresh notice, given under the current end date
        restriction_lift(restriction=restriction, actor=dpo)
        assert User.objects.get(pk=person.pk).restricted_at is None
        assert [m.subject for m in mail.outbox] == ["The restriction of your data will be lifted",
                                                    "The restriction of your data continues",
                                                    "The restriction of your data will be lifted"]

    def test_the_person_is_e_mailed_that_it_continues_until_the_new_day_and_nothing_more(self, dpo):
        person = _person()
        restriction = _told(_restricted(person, dpo), dpo)
        told_at = restriction.lift_notice_sent_at
        before = restriction.ends_on
        restriction = _moved(restriction, dpo, days=40)

        message = mail.outbox[-1]
        assert message.to == ["pieter.jansen@example.net"]
        assert message.subject == "The restriction of your data continues"
        assert f"continues until {date_format(restriction.ends_on, 'DATE_FORMAT')}" in message.body
        assert str(Ground.ACCURACY_CONTESTED.label) in message.body and "/privacy-requests/" in message.body
        assert "tell you again" in message.body
        text = f"{message.subject}\n{message.body}".lower()
        for personal in ("jansen", "pieter", "example.net", "205550177", "address is wrong"):
            assert personal not in text
        assert restriction.continuation_notice_due_at is None  # sent: no longer due

        entry = AuditEntry.objects.get(action="dsr.restriction_end_change")
        assert entry.extra == {"restriction": restriction.pk, "reason": "check_longer",
                               "ends_on_before": before.isoformat(), "ends_on": restriction.ends_on.isoformat(),
                               "notice_withdrawn": told_at.isoformat(), "notice_withdrawn_channel": "email",
                               "continuation_notice": "email"}
        sent = AuditEntry.objects.get(action="dsr.restriction_continuation_sent")
        assert sent.extra == {"restriction": restriction.pk, "ends_on": restriction.ends_on.isoformat()}
        assert sent.purpose == "legal_obligation"
        logged = json.dumps([entry.extra, sent.extra]).lower()
        for personal in ("jansen", "pieter", "example.net", "205550177", "address"):
            assert personal not in logged

    def test_a_removed_end_date_is_told_as_continuing_without_an_end(self, alice, dpo):
        restriction = _told(_restricted(alice, dpo, ground=Ground.LEGAL_CLAIMS, days=30), dpo)
        restriction = _moved(restriction, dpo, days=None, reason=Reason.PERSON_ASKED)
        assert restriction.ends_on is None
        assert "continues, for now without an end date" in mail.outbox[-1].body
        assert AuditEntry.objects.get(action="dsr.restriction_continuation_sent").extra["ends_on"] is None

    def test_a_dutch_speaking_person_is_told_in_dutch(self, dpo):
        person = user_language_set(user=make_user("jan"), language="nl")
        restriction = _moved(_told(_restricted(person, dpo), dpo), dpo, days=60)

        message = mail.outbox[-1]
        with translation.override("nl"):
            subject = gettext("The restriction of your data continues")
            day = date_format(restriction.ends_on, "DATE_FORMAT")  # "4 februari 2027"
            ground = str(Ground.ACCURACY_CONTESTED.label)
        assert message.subject == subject
        assert day in message.body and ground in message.body
        assert "Juistheid betwist" in ground  # the catalogue's Dutch, not the English label
        english = date_format(restriction.ends_on, "DATE_FORMAT")
        if english != day:
            assert english not in message.body

    def test_a_notice_given_by_letter_is_withdrawn_too_and_without_an_address_nobody_is_e_mailed(self, alice, dpo):
        restriction = restriction_lift_notice_record(restriction=_restricted(alice, dpo), channel="letter", actor=dpo)
        User.objects.filter(pk=alice.pk).update(email=None)
        restriction = _moved(restriction, dpo)

        assert mail.outbox == [] and restriction.continuation_notice_due_at is None
        extra = AuditEntry.objects.get(action="dsr.restriction_end_change").extra
        assert (extra["notice_withdrawn_channel"], extra["continuation_notice"]) == ("letter", "no_email")
        with pytest.raises(ApplicationError) as refused:
            restriction_lift(restriction=restriction, actor=dpo)
        assert refused.value.message == str(NOTICE_WITHDRAWN)

    def test_without_a_notice_only_the_date_changes(self, alice, dpo):
        restriction = _restricted(alice, dpo)
        before = restriction.ends_on
        restriction = _moved(restriction, dpo, days=40)

        assert mail.outbox == []
        assert (restriction.lift_notice_asked_at, restriction.lift_notice_sent_at, restriction.lift_notice_withdrawn_at,
                restriction.continuation_notice_due_at) == (None, None, None, None)
        assert AuditEntry.objects.get(action="dsr.restriction_end_change").extra == {
            "restriction": restriction.pk, "reason": "check_longer", "ends_on_before": before.isoformat(),
            "ends_on": restriction.ends_on.isoformat()}
        with pytest.raises(ApplicationError) as refused:
            restriction_lift(restriction=restriction, actor=dpo)
        assert refused.value.message == str(NOTICE_NOT_SENT)  # never told: nothing was withdrawn


class ContinuationDeliveryTests:
    def test_a_late_copy_of_the_old_notice_task_and_the_reaper_send_the_withdrawn_notice_no_more(self, alice, dpo):
        restriction = _moved(_told(_restricted(alice, dpo), dpo), dpo)
        assert len(mail.outbox) == 2
        assert restriction_lift_notice_task(alice.pk) is False  # the broker delivered the first task twice
        assert restriction_notices_requeue(at=now() + LATER) == []
        assert len(mail.outbox) == 2
        assert Restriction.objects.get(pk=restriction.pk).lift_notice_sent_at is None

    def test_the_continuation_waits_out_a_broker_outage_and_the_reaper_sends_it_once(self, alice, dpo):
        restriction = _told(_restricted(alice, dpo), dpo)
        with broker_outage(), TestCase.captureOnCommitCallbacks(execute=True):
            restriction_end_change(restriction=restriction, ends_on=localdate() + timedelta(days=40),
                                   reason=Reason.CHECK_LONGER, actor=dpo)
        assert len(mail.outbox) == 1  # the change is kept, its e-mail waits
        assert Restriction.objects.get(pk=restriction.pk).continuation_notice_due_at is not None
        assert restriction_notices_requeue() == []  # too young: its own send may still arrive
        assert restriction_notices_requeue(at=now() + LATER) == [alice.pk]
        assert mail.outbox[-1].subject == "The restriction of your data continues"
        assert restriction_notices_requeue(at=now() + LATER) == [] and len(mail.outbox) == 2
        assert restriction_continuation_notice_task(alice.pk) is False and len(mail.outbox) == 2

    def test_a_new_notice_given_before_the_continuation_went_drops_the_continuation(self, alice, dpo):
        restriction = _told(_restricted(alice, dpo), dpo)
        restriction_end_change(restriction=restriction, ends_on=localdate() + timedelta(days=40),
                               reason=Reason.CHECK_LONGER, actor=dpo)  # its task lost: not run
        restriction = _told(restriction, dpo)
        assert restriction_continuation_notice_task(alice.pk) is False
        assert [m.subject for m in mail.outbox] == ["The restriction of your data will be lifted"] * 2
        assert Restriction.objects.get(pk=restriction.pk).continuation_notice_due_at is None

    def test_a_mail_failure_names_the_user_id_only_and_keeps_it_due(self, alice, dpo):
        restriction = _told(_restricted(alice, dpo), dpo)
        restriction_end_change(restriction=restriction, ends_on=localdate() + timedelta(days=40),
                               reason=Reason.CHECK_LONGER, actor=dpo)
        refused = smtplib.SMTPRecipientsRefused({"alice@example.org": (550, b"no such user")})
        with patch("voipxs.mail.send_mail", side_effect=refused):
            with pytest.raises(RestrictionNoticeMailError) as error:
                restriction_continuation_notice_task(alice.pk)
        assert str(error.value) == f"restriction continuation notice to user {alice.pk} failed (SMTPRecipientsRefused)"
        assert error.value.__cause__ is None
        assert Restriction.objects.get(pk=restriction.pk).continuation_notice_due_at is not None
        assert not AuditEntry.objects.filter(action="dsr.restriction_continuation_sent").exists()
        assert restriction_continuation_notice_task.autoretry_for == (RestrictionNoticeMailError,)


class EndChangePagesTests:
    def test_the_pages_say_the_notice_is_withdrawn_and_a_new_one_is_needed(self, client, alice, dpo):
        restriction = _told(_restricted(alice, dpo), dpo)
        url = f"/privacy-requests/dpo/restrictions/{restriction.pk}/end/"
        verified_client(client, dpo)
        form = client.get(url).content.decode()
        assert 'id="notice-withdrawal"' in form and "That notice is withdrawn" in form
        assert "e-mailed that the restriction continues" in form

        data = {"ends_on": (localdate() + timedelta(days=40)).isoformat(), "reason": Reason.CHECK_LONGER}
        asked = client.post(url, data).content.decode()
        assert 'name="confirm"' in asked and "That notice is withdrawn" in asked
        with TestCase.captureOnCommitCallbacks(execute=True):
            done = client.post(url, {**data, "confirm": "yes"}, follow=True)
        assert done.status_code == 200 and "the notice of the lift is withdrawn" in done.content.decode()
        assert mail.outbox[-1].subject == "The restriction of your data continues"

        row = _row(client.get(PAGE).content.decode(), restriction)
        assert "New notice needed" in row and "when the end date moved" in row
        assert 'value="notify"' in row and 'value="lift"' not in row
        assert "alice" not in row and "@example.org" not in row
        again = client.get(url).content.decode()
        assert "New notice needed" in again and 'id="notice-withdrawal"' not in again  # nothing left to withdraw

        refused = client.post(PAGE, {"action": "lift", "restriction": restriction.pk, "confirm": "yes"})
        assert refused.status_code == 400
        assert "withdrawn when the end date moved" in refused.content.decode()
        assert User.objects.get(pk=alice.pk).restricted_at is not None

    def test_without_an_address_the_confirmation_says_to_tell_the_person_another_way(self, client, alice, dpo):
        restriction = _told(_restricted(alice, dpo), dpo)
        User.objects.filter(pk=alice.pk).update(email=None)
        verified_client(client, dpo)
        data = {"ends_on": (localdate() + timedelta(days=40)).isoformat(), "reason": Reason.CHECK_LONGER}
        asked = client.post(f"/privacy-requests/dpo/restrictions/{restriction.pk}/end/", data).content.decode()
        assert "no e-mail address: tell them another way" in asked

    def test_without_a_notice_the_pages_mention_no_withdrawal(self, client, alice, dpo):
        restriction = _restricted(alice, dpo)
        url = f"/privacy-requests/dpo/restrictions/{restriction.pk}/end/"
        verified_client(client, dpo)
        assert 'id="notice-withdrawal"' not in client.get(url).content.decode()
        data = {"ends_on": (localdate() + timedelta(days=40)).isoformat(), "reason": Reason.CHECK_LONGER}
        assert "withdrawn" not in client.post(url, data).content.decode()
        done = client.post(url, {**data, "confirm": "yes"}, follow=True).content.decode()
        assert "The end date of the restriction is changed." in done and "withdrawn" not in done
        assert "New notice needed" not in _row(client.get(PAGE).content.decode(), restriction)


class EndChangeCallsOffANoticeNotSentYetTests:
    def test_a_notice_asked_for_but_not_sent_is_called_off_and_its_task_sends_nothing(self, dpo):
        person = _person()
        restriction = _restricted(person, dpo)
        restriction_lift_notice_request(restriction=restriction, actor=dpo)  # its task is not run: still pending
        restriction.refresh_from_db()
        assert restriction.lift_notice_asked_at is not None and restriction.lift_notice_sent_at is None
        restriction = _moved(restriction, dpo)
        assert restriction.lift_notice_asked_at is None
        assert restriction_lift_notice_task.run(person.pk) is False  # the queued copy arrives late: nothing sent
        assert mail.outbox == []
        assert restriction_notices_requeue(at=now() + LATER) == []  # and it is not sent again later
        with pytest.raises(ApplicationError):
            restriction_lift(restriction=restriction, actor=dpo)
        entry = AuditEntry.objects.filter(action="dsr.restriction_end_change").latest("id")
        assert "notice_called_off" in entry.extra and "continuation_notice" not in entry.extra
        restriction = _told(restriction, dpo)  # asked again, for the new date: sent
        assert len(mail.outbox) == 1
