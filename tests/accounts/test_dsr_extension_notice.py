"""LEGAL.md row 23: a privacy request's deadline is extended only with a reason and a notice to the person before
the original deadline. Besides the portal, the person is e-mailed the reason and the new deadline; the notice is
stored as due with the extension, so a broker outage delays it by minutes instead of losing it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils.formats import date_format
from django.utils.timezone import localtime, now

from accounts.dsr.extension_notice import extension_notices_requeue
from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import REASON_REQUIRED, dsr_request_create, dsr_request_extend
from accounts.models import User
from accounts.tasks import dsr_extension_notice_task
from tests.broker import broker_outage
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

Kind = DataSubjectRequest.Kind
LATER = timedelta(minutes=10)  # past TASK_RESEND_AFTER_SECONDS (5 minutes)


def _asked(user) -> DataSubjectRequest:
    return dsr_request_create(user=user, kind=Kind.RECTIFICATION, details="My label is wrong")


def test_the_person_is_e_mailed_the_reason_and_the_new_deadline(alice, dpo):
    req = _asked(alice)
    with TestCase.captureOnCommitCallbacks(execute=True):
        req = dsr_request_extend(request=req, reason="The carrier's records take six weeks.", actor=dpo)
    [message] = mail.outbox
    assert message.to == ["alice@example.org"] and f"#{req.pk}" in message.subject
    assert "The carrier's records take six weeks." in message.body
    assert date_format(localtime(req.deadline), "DATE_FORMAT") in message.body
    entry = AuditEntry.objects.get(action="dsr.extension_notice")
    assert entry.target_id == str(req.pk) and entry.purpose == "legal_obligation" and entry.extra == {}
    assert DataSubjectRequest.objects.get(pk=req.pk).extension_notice_due_at is None
    assert dsr_extension_notice_task(req.pk) is False and len(mail.outbox) == 1  # sent twice: goes out once


def test_an_extension_without_a_reason_is_refused_and_nothing_is_sent(alice, dpo):
    req = _asked(alice)
    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(ApplicationError) as error:
        dsr_request_extend(request=req, reason="  ", actor=dpo)
    assert error.value.message == REASON_REQUIRED and error.value.extra == {"field": "reason"}
    req.refresh_from_db()
    assert req.extended_at is None and req.extension_notice_due_at is None and mail.outbox == []


def test_a_notice_the_broker_lost_is_sent_by_the_reaper(alice, dpo):
    req = _asked(alice)
    with broker_outage(), TestCase.captureOnCommitCallbacks(execute=True):
        dsr_request_extend(request=req, reason="Busy with the carrier.", actor=dpo)
    assert mail.outbox == [] and DataSubjectRequest.objects.get(pk=req.pk).extension_notice_due_at is not None
    assert extension_notices_requeue() == []  # too young: its own send may still arrive
    with broker_outage():
        assert extension_notices_requeue(at=now() + LATER) == []  # still down: kept for the next run
    assert extension_notices_requeue(at=now() + LATER) == [req.pk] and len(mail.outbox) == 1
    assert extension_notices_requeue(at=now() + LATER) == []


def test_a_person_without_an_address_ends_the_wait(alice, dpo):
    User.objects.filter(pk=alice.pk).update(email=None)
    req = _asked(alice)
    with TestCase.captureOnCommitCallbacks(execute=True):
        dsr_request_extend(request=req, reason="Busy.", actor=dpo)
    assert mail.outbox == [] and DataSubjectRequest.objects.get(pk=req.pk).extension_notice_due_at is None
