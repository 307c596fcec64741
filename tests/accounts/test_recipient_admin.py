"""The GDPR art. 19 recipients admin (accounts/dsr/admin_recipients.py): the DPO's only, read-only, pseudonymous
as the restriction and objection admins. It lists each recipient to tell with its request's id, the account's id
(never its login name), when the data was disclosed and when and how the recipient was told; each list read is
audited under the legal-obligation purpose."""
from __future__ import annotations

import pytest
from django.utils.timezone import localdate

from accounts.dsr.models import DataSubjectRequest, RecipientNotification
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from tests.accounts.dsr_helpers import delivered_disclosure
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
ADMIN = "/admin/accounts/recipientnotification/"
BODY = "Politie Eenheid Test"  # delivered_disclosure's authority


def _listed(user, officer, dpo, reference: str) -> RecipientNotification:
    delivered_disclosure(user=user, officer=officer, reference=reference, secrecy_days=None)
    req = dsr_request_create(user=user, kind=DataSubjectRequest.Kind.RECTIFICATION, details="My label is wrong.")
    dsr_request_complete(request=req, answer="We corrected it.", actor=dpo)
    return RecipientNotification.objects.get(request=req)


def _far(row: RecipientNotification, step: int) -> RecipientNotification:
    """`row` and its request renumbered far from every account's id and from each other, so that a search by one
    id can match a row only by the field it is meant to (the constraints are checked at commit)."""
    far = 10 ** 7 * step
    DataSubjectRequest.objects.filter(pk=row.request_id).update(id=far)
    RecipientNotification.objects.filter(pk=row.pk).update(id=far + 1, request_id=far)
    return RecipientNotification.objects.get(pk=far + 1)


class RecipientNotificationAdminTests:
    def test_the_dpo_lists_and_opens_recipients_by_ids_and_dates_with_no_login_name(self, client, alice, legal1,
                                                                                    dpo):
        told = _listed(alice, legal1, dpo, "TOLD-1")
        RecipientNotification.objects.filter(pk=told.pk).update(notified_on=localdate(), how="letter")
        verified_client(client, dpo)
        listed = client.get(ADMIN)
        opened = client.get(f"{ADMIN}{told.pk}/change/")
        assert listed.status_code == 200 and opened.status_code == 200
        assert f'<td class="field-account">#{alice.pk}</td>' in listed.content.decode()
        assert f'<td class="field-request_id">{told.request_id}</td>' in listed.content.decode()
        assert f'<div class="readonly">#{alice.pk}</div>' in opened.content.decode()
        for page in (listed.content.decode(), opened.content.decode()):
            assert BODY in page and "by letter" in page
            assert alice.username not in page  # her login name nowhere
        entry = AuditEntry.objects.filter(action="admin.recipient_notification.read").latest("pk")
        assert (entry.purpose, entry.outcome) == ("legal_obligation", "ok")

    def test_it_finds_by_request_or_account_id_and_filters_those_still_to_tell(self, client, alice, bob, legal1,
                                                                              dpo):
        mine, other = _far(_listed(alice, legal1, dpo, "TOLD-A"), 1), _far(_listed(bob, legal1, dpo, "TOLD-B"), 2)
        RecipientNotification.objects.filter(pk=other.pk).update(notified_on=localdate(), how="email")
        verified_client(client, dpo)
        for query in ({"q": str(alice.pk)}, {"q": str(mine.request_id)}, {"notified_on__isempty": "1"}):
            found = client.get(ADMIN, query).content.decode()
            assert f"{ADMIN}{mine.pk}/change/" in found, query
            assert f"{ADMIN}{other.pk}/change/" not in found, query
        assert client.get(ADMIN, {"q": "not-a-number"}).status_code == 200

    def test_only_the_dpo_sees_it_and_nobody_writes_through_it(self, client, alice, legal1, dpo, admin_user,
                                                               support):
        told = _listed(alice, legal1, dpo, "TOLD-1")
        for user in (admin_user, legal1, support):
            verified_client(client, user)
            assert client.get(ADMIN).status_code == 403, user
            assert client.get(f"{ADMIN}{told.pk}/change/").status_code == 403, user
            assert ADMIN not in client.get("/admin/").content.decode()
            client.logout()
        verified_client(client, dpo)
        assert ADMIN in client.get("/admin/").content.decode()
        assert client.get(f"{ADMIN}add/").status_code == 403
        assert client.post(f"{ADMIN}{told.pk}/change/", {"notified_on": "2026-01-01", "how": "email"}).status_code == 403
        assert client.post(f"{ADMIN}{told.pk}/delete/", {"post": "yes"}).status_code == 403
        told.refresh_from_db()
        assert told.notified_on is None and RecipientNotification.objects.filter(pk=told.pk).exists()
