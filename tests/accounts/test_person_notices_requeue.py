"""The e-mails to one person that a task sends (support's change of their itemised bills, the coming lift of
their restriction) are stored as due with the change that asks for them, so a broker outage loses neither the
change nor the e-mail: the reaper (beat, every 5 minutes) sends again what waited past TASK_RESEND_AFTER_SECONDS,
and a notice sent twice goes out once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.utils.timezone import now

from accounts.dsr.models import Restriction
from accounts.dsr.restriction import restriction_lift_notice_request
from accounts.dsr.restriction_mail import restriction_notices_requeue
from accounts.models import Itemisation, User
from accounts.support.services import support_itemisation_notices_requeue, support_itemisation_set
from accounts.tasks import person_notices_requeue_task, support_itemisation_notice_task
from tests.accounts.test_restriction_lift import _erase, _restricted
from tests.broker import broker_outage
from tests.factories import make_user
from voipxs.privacy.purposes import Role

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=10)  # past TASK_RESEND_AFTER_SECONDS (5 minutes)


@pytest.fixture
def support_staff(db):
    return make_user("support-desk", roles=(Role.SUPPORT,))


def _changed_while_the_broker_is_down(support_staff, user) -> None:
    with broker_outage(), TestCase.captureOnCommitCallbacks(execute=True):
        assert support_itemisation_set(actor=support_staff, user=user, itemisation=Itemisation.MASKED, channel="phone")


class ItemisationNoticeTests:
    def test_a_change_made_while_the_broker_is_down_is_kept_and_its_e_mail_sent_by_the_reaper(self, support_staff):
        dora = make_user("dora")
        _changed_while_the_broker_is_down(support_staff, dora)
        assert User.objects.get(pk=dora.pk).itemisation == Itemisation.MASKED and mail.outbox == []
        assert User.objects.get(pk=dora.pk).itemisation_notice_due_at is not None
        assert support_itemisation_notices_requeue() == []  # too young: its own send may still arrive
        assert support_itemisation_notices_requeue(at=now() + LATER) == [dora.pk]
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dora@example.org"]
        assert User.objects.get(pk=dora.pk).itemisation_notice_due_at is None
        assert support_itemisation_notices_requeue(at=now() + LATER) == []

    def test_the_reaper_sends_nothing_while_the_broker_is_still_down(self, support_staff):
        dora = make_user("dora")
        _changed_while_the_broker_is_down(support_staff, dora)
        with broker_outage():
            assert support_itemisation_notices_requeue(at=now() + LATER) == []
        assert User.objects.get(pk=dora.pk).itemisation_notice_due_at is not None and mail.outbox == []

    def test_a_notice_sent_twice_goes_out_once(self, support_staff):
        dora = make_user("dora")
        with TestCase.captureOnCommitCallbacks(execute=True):
            support_itemisation_set(actor=support_staff, user=dora, itemisation=Itemisation.FULL, channel="letter")
        assert len(mail.outbox) == 1
        assert support_itemisation_notice_task(dora.pk) is False and len(mail.outbox) == 1


class RestrictionNoticeTests:
    def test_a_notice_asked_for_while_the_broker_is_down_is_sent_by_the_reaper(self, alice, dpo):
        restriction = _restricted(alice, dpo)
        with broker_outage(), TestCase.captureOnCommitCallbacks(execute=True):
            restriction_lift_notice_request(restriction=restriction, actor=dpo)
        restriction.refresh_from_db()
        assert restriction.lift_notice_asked_at is not None and restriction.lift_notice_sent_at is None
        assert mail.outbox == [] and restriction_notices_requeue() == []
        assert person_notices_requeue_task.apply(kwargs={}).get() == {"itemisation": [], "restriction": [],
                                                                      "extension": [], "policy": []}
        assert restriction_notices_requeue(at=now() + LATER) == [alice.pk]
        assert len(mail.outbox) == 1
        assert Restriction.objects.get(pk=restriction.pk).lift_notice_sent_at is not None
        assert restriction_notices_requeue(at=now() + LATER) == []

    @pytest.mark.parametrize("gone", ["erased", "no address"])
    def test_nobody_to_tell_ends_the_wait_instead_of_sending_forever(self, alice, dpo, gone):
        restriction = _restricted(alice, dpo)
        with broker_outage(), TestCase.captureOnCommitCallbacks(execute=True):
            restriction_lift_notice_request(restriction=restriction, actor=dpo)
        if gone == "erased":
            _erase(alice)
        else:
            User.objects.filter(pk=alice.pk).update(email=None)
        assert restriction_notices_requeue(at=now() + LATER) == [alice.pk]  # sent once, finds nobody to tell...
        assert Restriction.objects.get(pk=restriction.pk).lift_notice_asked_at is None  # ... and stops
        assert restriction_notices_requeue(at=now() + LATER) == [] and mail.outbox == []
