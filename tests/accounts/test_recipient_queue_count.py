"""GDPR art. 19 on the DPO's work lists: how many recipients are listed and not yet recorded as told, on the DPO's
home page and request queue, linking to the requests where each is recorded (their "Recipients to notify" part).
The DPO's alone: no other staff role sees the count."""
from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.timezone import localdate

from accounts.dsr.context_processors import dpo_recipients_pending
from accounts.dsr.models import DataSubjectRequest, RecipientNotification
from accounts.dsr.recipients import recipient_notification_record, recipient_notifications_pending_count
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from tests.accounts.dsr_helpers import delivered_disclosure
from tests.factories import verified_client
from voipxs.privacy.audit import actor_ref
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind = DataSubjectRequest.Kind
QUEUE = reverse("accounts_dsr:dpo-requests")
BADGE = re.compile(r'<a class="badge warn" id="recipients-pending" href="([^"]+)">([^<]+)</a>')


@pytest.fixture
def carried_out(alice, legal1, dpo) -> list[DataSubjectRequest]:
    """alice's rectification and restriction, carried out after a disclosure to the police: one recipient each."""
    delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
    rectification = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My number's label is wrong.")
    restriction = dsr_request_create(user=alice, kind=Kind.RESTRICTION, details="Only keep my data.")
    return [dsr_request_complete(request=rectification, answer="Corrected.", actor=dpo),
            dsr_request_complete(request=restriction, answer="Restricted.", actor=dpo, ground="legal_claims")]


def _badge(page: str) -> tuple[str, str] | None:
    found = BADGE.search(page)
    return found and (found.group(1), found.group(2).strip())


class RecipientQueueCountTests:
    def test_the_dpos_queue_counts_the_recipients_not_yet_told_and_lists_where_to_record_them(
            self, client, carried_out, dpo):
        client = verified_client(client, dpo)
        page = client.get(QUEUE).content.decode()
        assert _badge(page) == ("#recipients-to-notify", "2 recipients to notify")
        section = page[page.index('id="recipients-to-notify"'):]
        for req in carried_out:
            assert f'href="{reverse("accounts_dsr:dpo-request", args=[req.pk])}#recipients-title"' in section
        recipient_notification_record(notification=RecipientNotification.objects.get(request=carried_out[0]),
                                      notified_on=localdate(), how="email", actor=dpo)
        page = client.get(QUEUE).content.decode()
        assert _badge(page) == ("#recipients-to-notify", "1 recipient to notify")
        section = page[page.index('id="recipients-to-notify"'):]
        assert f'{reverse("accounts_dsr:dpo-request", args=[carried_out[0].pk])}#' not in section

    def test_the_dpos_home_page_shows_the_count_linking_to_the_queue(self, client, carried_out, dpo):
        page = verified_client(client, dpo).get("/").content.decode()
        assert _badge(page) == (f"{QUEUE}#recipients-to-notify", "2 recipients to notify")
        assert AuditEntry.objects.filter(action="dsr.recipients_pending", actor=actor_ref(dpo)).exists()

    def test_nothing_is_shown_when_every_recipient_is_recorded(self, client, carried_out, dpo):
        for n in RecipientNotification.objects.all():
            recipient_notification_record(notification=n, notified_on=localdate(), how="letter", actor=dpo)
        client = verified_client(client, dpo)
        assert _badge(client.get("/").content.decode()) is None
        page = client.get(QUEUE).content.decode()
        assert _badge(page) is None and 'id="recipients-to-notify"' not in page

    @pytest.mark.parametrize("role", ["admin_user", "legal1", "support", "billing_staff", "noc"])
    def test_no_other_staff_role_sees_the_count(self, client, request, carried_out, role):
        staff = request.getfixturevalue(role)
        client = verified_client(client, staff)
        home = client.get("/").content.decode()
        assert _badge(home) is None and "to notify" not in home
        assert client.get(QUEUE).status_code == 403
        with pytest.raises(PermissionDenied):
            recipient_notifications_pending_count(actor=staff)

    def test_pages_of_other_roles_would_get_no_count_and_no_refusal(self, rf, carried_out, dpo, legal1, support):
        """The count is the DPO's: any page a legal officer or support member opens gets 0 (never the DPO's count,
        never a refusal)."""
        for staff in (legal1, support):
            request = rf.get("/")
            request.user = staff
            assert dpo_recipients_pending(request)["dpo_recipients_pending"]["count"] == 0
        request = rf.get("/")
        request.user = dpo
        assert dpo_recipients_pending(request)["dpo_recipients_pending"]["count"] == 2

    def test_the_count_is_in_dutch_on_a_dutch_page(self, client, carried_out, dpo):
        client = verified_client(client, dpo)
        for path in ("/", QUEUE):
            page = client.get(path, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
            assert '<html lang="nl"' in page
            _, text = _badge(page)
            assert text.startswith("2 ") and "recipients to notify" not in text
