"""A new decision on a restriction request of a person already restricted (GDPR art. 18(3)): it replaces the terms
of the active restriction, so a notice of the lift the person was given under the old ones is withdrawn as when
the end date moves (test_restriction_end_notice.py): the lift waits for a new notice, the person is e-mailed in
their language that the restriction continues, the audit entry records it with ids, dates and codes, and the DPO's
pages say a new notice is needed and why. A notice asked for and not sent yet is called off. A person whose e-mail
address is empty ("" or spaces) has none: nobody is e-mailed, and the pages tell the DPO to tell them another way."""
from __future__ import annotations

import importlib
import json
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.test import TestCase
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localdate, now
from django.utils.translation import gettext

from accounts.dsr.models import DataSubjectRequest, Restriction
from accounts.dsr.restriction import (
    NO_EMAIL, NOTICE_WITHDRAWN_BY_DECISION, restriction_end_change, restriction_lift, restriction_lift_notice_record,
    restriction_lift_notice_request,
)
from accounts.dsr.restriction_mail import restriction_notices_requeue
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from accounts.models import User
from accounts.services.users import user_language_set
from accounts.tasks import restriction_lift_notice_task
from tests.accounts.test_restriction_end import _person, _restricted
from tests.accounts.test_restriction_end_notice import LATER, PAGE, _row, _told
from tests.factories import make_user, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

Ground = Restriction.Ground

pytestmark = pytest.mark.django_db


def _asked(person) -> DataSubjectRequest:
    return dsr_request_create(user=person, kind=DataSubjectRequest.Kind.RESTRICTION, details="Keep it, I need it")


def _decided(person, dpo, *, ground=Ground.LEGAL_CLAIMS, days: int | None = 60) -> Restriction:
    """The DPO completes a new restriction request of an already restricted person; what it queues after the commit
    runs (the continuation e-mail)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        dsr_request_complete(request=_asked(person), answer="Restricted again.", actor=dpo, ground=ground,
                             ends_on=localdate() + timedelta(days=days) if days is not None else None)
    return Restriction.objects.get(user=person, lifted_at__isnull=True)


def _terms_entry() -> dict:
    return AuditEntry.objects.filter(action="dsr.restriction_terms").latest("id").extra


def _without_address(person, address: str) -> None:
    """An address that is empty: saved as the services save, so its blind index is that of an empty address."""
    person = User.objects.get(pk=person.pk)
    person.email = address
    person.save(update_fields=["email", "email_index"])


class NewDecisionWithdrawsTheNoticeTests:
    def test_the_person_is_e_mailed_that_it_continues_and_the_lift_waits_for_a_new_notice(self, dpo):
        person = _person()
        told = _told(_restricted(person, dpo), dpo)
        told_at = told.lift_notice_sent_at
        restriction = _decided(person, dpo, ground=Ground.LEGAL_CLAIMS, days=60)

        assert restriction.pk == told.pk and restriction.ground == "legal_claims"
        assert [m.subject for m in mail.outbox] == ["The restriction of your data will be lifted",
                                                    "The restriction of your data continues"]
        message = mail.outbox[-1]
        assert message.to == ["pieter.jansen@example.net"]
        assert f"continues until {date_format(restriction.ends_on, 'DATE_FORMAT')}" in message.body
        assert str(Ground.LEGAL_CLAIMS.label) in message.body and "tell you again" in message.body
        text = f"{message.subject}\n{message.body}".lower()
        for personal in ("jansen", "pieter", "example.net", "205550177", "keep it"):
            assert personal not in text
        assert (restriction.lift_notice_sent_at, restriction.lift_notice_asked_at, restriction.lift_notice_channel,
                restriction.continuation_notice_due_at) == (None, None, "", None)
        assert restriction.lift_notice_withdrawn_by == Restriction.NoticeWithdrawal.NEW_DECISION

        entry = _terms_entry()
        assert entry == {"restriction": restriction.pk, "request": restriction.request_id, "ground": "legal_claims",
                         "ends_on": restriction.ends_on.isoformat(), "notice_withdrawn": told_at.isoformat(),
                         "notice_withdrawn_channel": "email", "continuation_notice": "email"}
        for personal in ("jansen", "pieter", "example.net", "205550177", "keep it"):
            assert personal not in json.dumps(entry).lower()

        with pytest.raises(ApplicationError) as refused:
            restriction_lift(restriction=restriction, actor=dpo)
        assert refused.value.message == str(NOTICE_WITHDRAWN_BY_DECISION)
        assert User.objects.get(pk=person.pk).restricted_at is not None
        restriction_lift(restriction=_told(restriction, dpo), actor=dpo)  # a fresh notice, under the new terms
        assert User.objects.get(pk=person.pk).restricted_at is None

    def test_a_dutch_speaking_person_is_told_in_dutch(self, dpo):
        person = user_language_set(user=make_user("jan"), language="nl")
        _told(_restricted(person, dpo), dpo)
        restriction = _decided(person, dpo, days=90)

        message = mail.outbox[-1]
        with translation.override("nl"):
            subject = gettext("The restriction of your data continues")
            day, ground = date_format(restriction.ends_on, "DATE_FORMAT"), str(Ground.LEGAL_CLAIMS.label)
        assert subject != "The restriction of your data continues"  # the catalogue's Dutch
        assert message.subject == subject and day in message.body and ground in message.body

    def test_a_late_copy_of_the_old_notice_task_and_the_reaper_send_nothing_more(self, alice, dpo):
        restriction = _told(_restricted(alice, dpo), dpo)
        _decided(alice, dpo)
        assert len(mail.outbox) == 2
        assert restriction_lift_notice_task(alice.pk) is False  # the broker delivered the first task twice
        assert restriction_notices_requeue(at=now() + LATER) == []
        assert len(mail.outbox) == 2
        assert Restriction.objects.get(pk=restriction.pk).lift_notice_sent_at is None

    def test_a_notice_asked_for_but_not_sent_is_called_off_and_its_task_sends_nothing(self, alice, dpo):
        restriction = _restricted(alice, dpo)
        restriction_lift_notice_request(restriction=restriction, actor=dpo)  # its task is not run: still pending
        restriction = _decided(alice, dpo)

        assert restriction.lift_notice_asked_at is None and restriction.lift_notice_withdrawn_at is not None
        assert restriction_lift_notice_task.run(alice.pk) is False  # the queued copy arrives late: nothing sent
        assert restriction_notices_requeue(at=now() + LATER) == []  # and it is not sent again later
        assert mail.outbox == []
        entry = _terms_entry()
        assert "notice_called_off" in entry and "continuation_notice" not in entry
        with pytest.raises(ApplicationError) as refused:
            restriction_lift(restriction=restriction, actor=dpo)
        assert refused.value.message == str(NOTICE_WITHDRAWN_BY_DECISION)

    def test_a_new_decision_without_a_notice_changes_only_the_terms(self, alice, dpo):
        _restricted(alice, dpo)
        restriction = _decided(alice, dpo, days=None)
        assert mail.outbox == [] and restriction.ends_on is None
        assert (restriction.lift_notice_withdrawn_at, restriction.continuation_notice_due_at) == (None, None)
        assert set(_terms_entry()) == {"restriction", "request", "ground", "ends_on"}

    def test_a_notice_given_by_letter_to_a_person_without_an_address_is_withdrawn_and_nobody_is_e_mailed(self, alice,
                                                                                                          dpo):
        restriction_lift_notice_record(restriction=_restricted(alice, dpo), channel="letter", actor=dpo)
        User.objects.filter(pk=alice.pk).update(email=None, email_index=None)
        restriction = _decided(alice, dpo)

        assert mail.outbox == [] and restriction.continuation_notice_due_at is None
        entry = _terms_entry()
        assert (entry["notice_withdrawn_channel"], entry["continuation_notice"]) == ("letter", "no_email")


class NewDecisionPagesTests:
    def test_the_request_page_warns_before_and_the_list_says_a_new_notice_is_needed_after(self, client, alice, dpo):
        restriction = _told(_restricted(alice, dpo), dpo)
        req = _asked(alice)
        url = f"/privacy-requests/dpo/{req.pk}/"
        verified_client(client, dpo)
        page = client.get(url).content.decode()
        assert 'id="notice-withdrawal"' in page and f"records a new decision on its restriction #{restriction.pk}" in page
        assert "e-mailed that the restriction continues" in page

        data = {"action": "complete", "answer": "Restricted again.", "ground": Ground.LEGAL_CLAIMS, "ends_on": "",
                "confirm": "yes"}
        with TestCase.captureOnCommitCallbacks(execute=True):
            done = client.post(url, data, follow=True)
        assert done.status_code == 200 and "That notice is withdrawn" in done.content.decode()
        assert mail.outbox[-1].subject == "The restriction of your data continues"

        row = _row(client.get(PAGE).content.decode(), restriction)
        assert "New notice needed" in row and "when a new decision was recorded" in row
        assert "when the end date moved" not in row
        assert 'value="notify"' in row and 'value="lift"' not in row
        assert "alice" not in row and "@example.org" not in row
        end_page = client.get(f"/privacy-requests/dpo/restrictions/{restriction.pk}/end/").content.decode()
        assert "New notice needed" in end_page and "when a new decision was recorded" in end_page
        refused = client.post(PAGE, {"action": "lift", "restriction": restriction.pk, "confirm": "yes"})
        assert refused.status_code == 400
        assert "withdrawn when a new decision on the restriction was recorded" in refused.content.decode()
        assert User.objects.get(pk=alice.pk).restricted_at is not None

    def test_the_list_says_up_front_that_a_new_decision_withdraws_a_notice_as_a_moved_end_date_does(self, client,
                                                                                                       dpo):
        page = verified_client(client, dpo).get(PAGE).content.decode()
        intro = page.split("<h1>", 1)[1].split('<table', 1)[0]
        withdrawal = next(p for p in re.findall(r"<p>(.*?)</p>", intro, re.DOTALL) if "withdraws that notice" in p)
        assert "Moving the end date after the person was told withdraws that notice" in withdrawal
        assert "a new decision recorded on a new restriction request of someone already restricted" in withdrawal
        assert "must be told again before the lift" in withdrawal

    def test_without_a_notice_the_request_page_mentions_no_withdrawal(self, client, alice, dpo):
        _restricted(alice, dpo)
        verified_client(client, dpo)
        page = client.get(f"/privacy-requests/dpo/{_asked(alice).pk}/").content.decode()
        assert 'id="notice-withdrawal"' not in page and "withdrawn" not in page


@pytest.mark.parametrize("address", ["", "   "])
class EmptyAddressTests:
    def test_a_new_decision_e_mails_nobody_and_the_page_says_to_tell_them_another_way(self, client, alice, dpo,
                                                                                       address):
        _told(_restricted(alice, dpo), dpo)
        _without_address(alice, address)
        req = _asked(alice)
        verified_client(client, dpo)
        assert "no e-mail address: tell them another way" in client.get(f"/privacy-requests/dpo/{req.pk}/").content.decode()
        sent = len(mail.outbox)
        with TestCase.captureOnCommitCallbacks(execute=True):
            client.post(f"/privacy-requests/dpo/{req.pk}/", {"action": "complete", "answer": "Again.",
                                                             "ground": Ground.LEGAL_CLAIMS, "confirm": "yes"})
        restriction = Restriction.objects.get(user=alice, lifted_at__isnull=True)
        assert len(mail.outbox) == sent and restriction.continuation_notice_due_at is None
        assert _terms_entry()["continuation_notice"] == "no_email"

    def test_moving_the_end_date_says_to_tell_them_another_way(self, client, alice, dpo, address):
        restriction = _told(_restricted(alice, dpo), dpo)
        _without_address(alice, address)
        verified_client(client, dpo)
        data = {"ends_on": (localdate() + timedelta(days=40)).isoformat(), "reason": "check_longer"}
        url = f"/privacy-requests/dpo/restrictions/{restriction.pk}/end/"
        assert "no e-mail address: tell them another way" in client.post(url, data).content.decode()
        with TestCase.captureOnCommitCallbacks(execute=True):
            client.post(url, {**data, "confirm": "yes"})
        assert len(mail.outbox) == 1  # only the notice of the lift, before the address went
        assert Restriction.objects.get(pk=restriction.pk).continuation_notice_due_at is None

    def test_the_notice_of_the_lift_is_refused_naming_the_missing_address(self, client, alice, dpo, address):
        restriction = _restricted(alice, dpo)
        _without_address(alice, address)
        verified_client(client, dpo)
        with TestCase.captureOnCommitCallbacks(execute=True):
            refused = client.post(PAGE, {"action": "notify", "restriction": restriction.pk, "confirm": "yes"})
        assert refused.status_code == 400
        assert str(NO_EMAIL) in refused.content.decode()
        assert mail.outbox == [] and Restriction.objects.get(pk=restriction.pk).lift_notice_asked_at is None


MIGRATION = importlib.import_module("accounts.migrations.0023_restriction_lift_notice_withdrawn_by")


def test_the_migration_says_the_notices_withdrawn_before_it_went_when_the_end_date_moved(alice, bob, dpo):
    moved = restriction_lift_notice_record(restriction=_restricted(alice, dpo), channel="letter", actor=dpo)
    restriction_end_change(restriction=moved, ends_on=localdate() + timedelta(days=40), reason="check_longer", actor=dpo)
    untouched = _restricted(bob, dpo)
    Restriction.objects.update(lift_notice_withdrawn_by="")  # as before the migration

    MIGRATION.withdrawn_by_end_change(apps, None)

    assert Restriction.objects.get(pk=moved.pk).lift_notice_withdrawn_by == "end_change"
    assert Restriction.objects.get(pk=untouched.pk).lift_notice_withdrawn_by == ""
