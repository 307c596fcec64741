"""The restriction e-mails' tasks (GDPR art. 18(3)) and the services that queue them share one rule for "has an
e-mail address": an empty one, "" or only spaces, is none (dsr/restriction.py `user_has_email`, by the blind index of
the trimmed address). An address that became empty after the task was queued (the DPO asked for the notice, or moved
the end date, and the broker delivers later, or the reaper sends it again) is not written to: nothing is sent or
recorded as sent, and the DPO's list shows the person still untold."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils.timezone import localdate

from accounts.dsr.models import Restriction
from accounts.dsr.restriction import restriction_end_change, restriction_lift_notice_request
from accounts.tasks import restriction_continuation_notice_task, restriction_lift_notice_task
from tests.accounts.test_restriction_end import _restricted
from tests.accounts.test_restriction_end_notice import PAGE, _row, _told
from tests.accounts.test_restriction_record_notice import _without_address
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

Reason = Restriction.EndChangeReason


@pytest.mark.parametrize("address", ["", "   "])
class EmptyAddressTaskTests:
    def test_the_notice_of_the_lift_is_not_sent_and_the_person_stays_untold(self, client, alice, dpo, address):
        restriction = _restricted(alice, dpo)
        restriction_lift_notice_request(restriction=restriction, actor=dpo)  # queued after a commit that never runs
        _without_address(alice, address)

        assert restriction_lift_notice_task(alice.pk) is False

        assert mail.outbox == []
        restriction.refresh_from_db()
        assert (restriction.lift_notice_asked_at, restriction.lift_notice_sent_at) == (None, None)
        assert not AuditEntry.objects.filter(action="dsr.restriction_notice_sent").exists()
        row = _row(verified_client(client, dpo).get(PAGE).content.decode(), restriction)
        assert 'value="notify"' in row and 'value="lift"' not in row and "not sent yet" not in row

    def test_the_notice_that_it_continues_is_not_sent_and_no_longer_due(self, alice, dpo, address):
        restriction = _told(_restricted(alice, dpo), dpo)
        restriction_end_change(restriction=restriction, ends_on=localdate() + timedelta(days=40),
                               reason=Reason.CHECK_LONGER, actor=dpo)  # its task queued, not run yet
        assert Restriction.objects.get(pk=restriction.pk).continuation_notice_due_at is not None
        _without_address(alice, address)
        told = len(mail.outbox)

        assert restriction_continuation_notice_task(alice.pk) is False

        assert len(mail.outbox) == told  # only the notice of the lift, before the address went
        assert Restriction.objects.get(pk=restriction.pk).continuation_notice_due_at is None
        assert not AuditEntry.objects.filter(action="dsr.restriction_continuation_sent").exists()

