"""GDPR art. 18(3) without our e-mail: the DPO records that the person was told another way (a letter, a call, in
person), for a person without an e-mail address or one reached otherwise; the lift may follow, and both the
record and the lift say how the person was told."""
from __future__ import annotations

import pytest
from django.core import mail

from accounts.dsr.models import Restriction
from accounts.dsr.restriction import CHANNEL_INVALID, NOTICE_ALREADY_SENT, restriction_lift, restriction_lift_notice_record
from accounts.models import User
from tests.accounts.test_restriction_lift import PAGE, _erase, _restricted, _told
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

Channel = Restriction.NoticeChannel


def test_a_person_without_an_address_is_told_by_letter_and_the_restriction_lifted(alice, dpo):
    restriction = _restricted(alice, dpo)
    User.objects.filter(pk=alice.pk).update(email=None)
    restriction_lift_notice_record(restriction=restriction, channel=Channel.LETTER, actor=dpo)
    restriction.refresh_from_db()
    assert restriction.lift_notice_sent_at is not None and restriction.lift_notice_channel == "letter"
    assert mail.outbox == []  # nothing sent by us: the DPO's record is the notice
    recorded = AuditEntry.objects.get(action="dsr.restriction_notice_recorded")
    assert recorded.extra == {"restriction": restriction.pk, "channel": "letter"}
    restriction_lift(restriction=restriction, actor=dpo)
    assert User.objects.get(pk=alice.pk).restricted_at is None
    assert AuditEntry.objects.get(action="dsr.restriction_lifted").extra["notice_channel"] == "letter"


def test_our_e_mail_records_its_own_channel(alice, dpo, django_capture_on_commit_callbacks):
    restriction = _told(_restricted(alice, dpo), dpo, django_capture_on_commit_callbacks)
    assert restriction.lift_notice_channel == "email" and len(mail.outbox) == 1


@pytest.mark.parametrize("channel", ["", "email", "pigeon"])
def test_the_channel_must_be_another_way_than_our_e_mail(alice, dpo, channel):
    restriction = _restricted(alice, dpo)
    with pytest.raises(ApplicationError) as error:
        restriction_lift_notice_record(restriction=restriction, channel=channel, actor=dpo)
    assert error.value.extra["field"] == "channel" and error.value.message == str(CHANNEL_INVALID)
    assert Restriction.objects.get(pk=restriction.pk).lift_notice_sent_at is None


def test_a_person_already_told_and_an_erased_account_are_refused(alice, bob, dpo, django_capture_on_commit_callbacks):
    told = _told(_restricted(alice, dpo), dpo, django_capture_on_commit_callbacks)
    with pytest.raises(ApplicationError) as error:
        restriction_lift_notice_record(restriction=told, channel=Channel.PHONE, actor=dpo)
    assert error.value.message == str(NOTICE_ALREADY_SENT)
    erased = _restricted(bob, dpo)
    _erase(bob)
    with pytest.raises(ApplicationError) as error:
        restriction_lift_notice_record(restriction=erased, channel=Channel.PHONE, actor=dpo)
    assert error.value.extra["field"] == "account"


def test_the_page_records_it_after_a_confirmation_and_shows_how(client, alice, dpo):
    restriction = _restricted(alice, dpo)
    verified_client(client, dpo)
    page = client.get(PAGE).content.decode()
    assert 'value="record"' in page and 'value="in_person"' in page and 'value="email"' not in page
    asked = client.post(PAGE, {"action": "record", "restriction": restriction.pk, "channel": "phone"})
    text = asked.content.decode()
    assert asked.status_code == 200 and 'name="confirm"' in text and "told by phone" in text
    assert Restriction.objects.get(pk=restriction.pk).lift_notice_sent_at is None
    done = client.post(PAGE, {"action": "record", "restriction": restriction.pk, "channel": "phone", "confirm": "yes"})
    assert done.status_code == 302 and Restriction.objects.get(pk=restriction.pk).lift_notice_channel == "phone"
    assert "(by phone)" in client.get(PAGE).content.decode()
    bad = client.post(PAGE, {"action": "record", "restriction": restriction.pk, "channel": "fax", "confirm": "yes"})
    assert bad.status_code == 400


def test_the_page_in_dutch_names_the_way(client, alice, dpo):
    _restricted(alice, dpo)
    verified_client(client, dpo)
    client.cookies["django_language"] = "nl"
    page = client.get(PAGE).content.decode()
    assert "De betrokkene is op een andere manier ingelicht" in page and "per brief" in page
