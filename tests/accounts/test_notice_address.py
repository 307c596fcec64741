"""Every notice shares one rule for "has an e-mail address": an empty one, "" or only spaces, is none
(voipxs.mail.mail_address, the same rule as dsr/restriction.py `user_has_email` asks of the blind index). A person
whose address is only spaces is not written to at " ": the extension notice, the itemisation notice, the mails to a
staff role and the policy notice skip them and end what was due; support's page says the customer is not told by
e-mail. A padded address is written to trimmed."""
from __future__ import annotations

import pytest
from django.core import mail
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest, PolicyVersion
from accounts.dsr.policy import policy_notice_email_batch
from accounts.dsr.restriction import restriction_lift_notice_request
from accounts.dsr.services import dsr_request_create, dsr_request_extend
from accounts.models import User
from accounts.services.roles import staff_role_mail
from accounts.tasks import dsr_extension_notice_task, restriction_lift_notice_task, support_itemisation_notice_task
from tests.accounts.test_restriction_end import _restricted
from tests.accounts.test_restriction_record_notice import _without_address
from tests.accounts.test_support_itemisation import CHANGE, CONFIRMED
from tests.factories import make_user, verified_client
from voipxs.privacy.models import AuditEntry
from voipxs.privacy.purposes import Role

pytestmark = pytest.mark.django_db

SPACES = "   "
PADDED = "  alice@example.org "


def _extended(person: User, dpo: User) -> DataSubjectRequest:
    """A request whose extension notice is due: its task is queued after a commit that never runs here."""
    req = dsr_request_create(user=person, kind=DataSubjectRequest.Kind.RECTIFICATION, details="My label is wrong")
    return dsr_request_extend(request=req, reason="The carrier's records take six weeks.", actor=dpo)


class ExtensionNoticeAddressTests:
    def test_an_address_of_only_spaces_gets_no_mail_and_the_notice_ends(self, alice, dpo):
        req = _extended(alice, dpo)
        _without_address(alice, SPACES)

        assert dsr_extension_notice_task(req.pk) is False

        assert mail.outbox == []
        assert DataSubjectRequest.objects.get(pk=req.pk).extension_notice_due_at is None
        assert not AuditEntry.objects.filter(action="dsr.extension_notice").exists()

    def test_a_padded_address_is_written_to_trimmed(self, alice, dpo):
        req = _extended(alice, dpo)
        _without_address(alice, PADDED)

        assert dsr_extension_notice_task(req.pk) is True

        [message] = mail.outbox
        assert message.to == ["alice@example.org"]


class ItemisationNoticeAddressTests:
    def test_an_address_of_only_spaces_gets_no_mail_and_the_notice_ends(self, alice):
        _without_address(alice, SPACES)
        User.objects.filter(pk=alice.pk).update(itemisation_notice_due_at=now())

        assert support_itemisation_notice_task(alice.pk) is False

        assert mail.outbox == []
        assert User.objects.get(pk=alice.pk).itemisation_notice_due_at is None
        assert not AuditEntry.objects.filter(action="user.itemisation_notice").exists()

    def test_a_padded_address_is_written_to_trimmed(self, alice):
        _without_address(alice, PADDED)
        User.objects.filter(pk=alice.pk).update(itemisation_notice_due_at=now())

        assert support_itemisation_notice_task(alice.pk) is True

        [message] = mail.outbox
        assert message.to == ["alice@example.org"]

    def test_support_is_told_the_customer_is_not_told_by_e_mail(self, client, support, alice):
        _without_address(alice, SPACES)

        page = verified_client(client, support).post(CHANGE.format(pk=alice.pk), {**CONFIRMED, "confirm": ""})

        text = page.content.decode()
        assert page.status_code == 200 and "has no e-mail address and is not told by e-mail" in text
        assert "The customer is told by e-mail" not in text


class RestrictionNoticeAddressTests:
    def test_a_padded_address_is_written_to_trimmed(self, alice, dpo):
        restriction_lift_notice_request(restriction=_restricted(alice, dpo), actor=dpo)  # its task not run yet
        _without_address(alice, PADDED)

        assert restriction_lift_notice_task(alice.pk) is True

        [message] = mail.outbox
        assert message.to == ["alice@example.org"]


class StaffRoleMailAddressTests:
    def test_a_member_with_an_address_of_only_spaces_is_skipped(self):
        make_user("dpo_mailed", roles=(Role.DPO,), totp=True)
        _without_address(make_user("dpo_spaces", roles=(Role.DPO,), totp=True), SPACES)

        assert staff_role_mail(role=Role.DPO, compose=lambda: ("Subject", "Body")) == 1

        [message] = mail.outbox
        assert message.to == ["dpo_mailed@example.org"]


class PolicyNoticeAddressTests:
    def test_a_person_with_an_address_of_only_spaces_is_skipped(self, alice, bob):
        _without_address(bob, SPACES)
        pv = PolicyVersion.objects.create(version="9.9", summary="s", text="t", substantive=True)

        assert policy_notice_email_batch(version_id=pv.pk, after_user_id=0) is None

        assert [m.to for m in mail.outbox] == [["alice@example.org"]]
