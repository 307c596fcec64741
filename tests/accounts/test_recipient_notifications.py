"""GDPR art. 19 (LEGAL.md section 5): when a rectification, erasure or restriction is carried out, the recipients to
whom the person's data was disclosed are listed for the DPO, who records when and how each was told; the person is
told who they are (in the access export). A disclosure under a running secrecy order, or one the legal officers
decided not to tell the person of (UAVG art. 41), is listed neither to the DPO nor to the person until that ends."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import localdate

from accounts.dsr.models import DataSubjectRequest, ExportFile, RecipientNotification
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from disclosures.services.notices import disclosure_notice_send
from tests.accounts.dsr_helpers import delivered_disclosure, export_json_valid, section
from tests.factories import PASSWORD, verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind = DataSubjectRequest.Kind


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _rectified(user, dpo) -> DataSubjectRequest:
    req = dsr_request_create(user=user, kind=Kind.RECTIFICATION, details="My number's label is wrong.")
    return dsr_request_complete(request=req, answer="We corrected it.", actor=dpo)


def _listed(req) -> list[str]:
    return [n.recipient for n in RecipientNotification.objects.filter(request=req).order_by("pk")]


class RecipientNotificationTests:
    def test_it_lists_the_disclosures_recipient_when_a_rectification_is_carried_out(self, alice, legal1, dpo):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        req = _rectified(alice, dpo)
        assert _listed(req) == ["Politie Eenheid Test"]
        entry = AuditEntry.objects.get(action="dsr.recipients_listed", target_id=str(req.pk))
        assert entry.extra == {"recipients": 1}

    def test_it_lists_them_for_an_erasure_too(self, alice, legal1, dpo):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        req = dsr_request_create(user=alice, kind=Kind.ERASURE, password=PASSWORD)  # carried out at once
        req.refresh_from_db()
        assert req.status == DataSubjectRequest.Status.COMPLETED
        assert _listed(req) == ["Politie Eenheid Test"]

    def test_it_lists_them_for_a_restriction_too(self, alice, legal1, dpo):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        req = dsr_request_create(user=alice, kind=Kind.RESTRICTION, details="Only keep my data.")
        req = dsr_request_complete(request=req, answer="Restricted.", actor=dpo, ground="legal_claims")
        assert _listed(req) == ["Politie Eenheid Test"]

    def test_it_lists_nobody_for_an_access_request(self, alice, legal1, dpo, django_capture_on_commit_callbacks):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        with django_capture_on_commit_callbacks(execute=True):
            req = dsr_request_create(user=alice, kind=Kind.ACCESS)
        assert _listed(req) == []

    def test_it_lists_no_disclosure_under_secrecy_until_the_person_is_told_of_it(self, alice, legal1, dpo):
        secret = delivered_disclosure(user=alice, officer=legal1, reference="SECRET-1", secrecy_days=30)
        req = _rectified(alice, dpo)
        assert _listed(req) == []
        assert not AuditEntry.objects.filter(action="dsr.recipients_listed").exists()
        # The secrecy order ends and an officer sends the notice: from then on the DPO must tell this recipient.
        secret.secrecy_until = localdate() - timedelta(days=1)
        secret.save(update_fields=["secrecy_until"])
        disclosure_notice_send(actor=legal1, notice=secret.notices.get())
        assert _listed(req) == ["Politie Eenheid Test"]

    def test_it_lists_no_disclosure_the_officers_decided_not_to_tell_of(self, alice, legal1, dpo):
        decided = delivered_disclosure(user=alice, officer=legal1, reference="UAVG-1", secrecy_days=None)
        decided.notices.update(state="draft", sent_at=None)
        decided.notice_user = False  # UAVG art. 41: a restriction decision, no notice
        decided.save(update_fields=["notice_user"])
        assert _listed(_rectified(alice, dpo)) == []

    def test_it_lists_no_recipient_of_a_later_disclosure(self, alice, legal1, dpo):
        req = _rectified(alice, dpo)
        delivered_disclosure(user=alice, officer=legal1, reference="LATER-1", secrecy_days=None)
        second = _rectified(alice, dpo)  # lists again for every request of hers carried out
        assert _listed(req) == [] and _listed(second) == ["Politie Eenheid Test"]

    def test_the_dpo_records_when_and_how_a_recipient_was_told(self, client, alice, legal1, dpo):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        req = _rectified(alice, dpo)
        client = verified_client(client, dpo)
        page = client.get(reverse("accounts_dsr:dpo-request", args=[req.pk])).content.decode()
        assert "Politie Eenheid Test" in page and "Not yet notified" in page
        notification = RecipientNotification.objects.get(request=req)
        day = localdate().isoformat()
        response = client.post(reverse("accounts_dsr:dpo-recipient-notified", args=[req.pk, notification.pk]),
                               {"notified_on": day, "how": "email"})
        assert response.status_code == 302
        notification.refresh_from_db()
        assert (notification.notified_on.isoformat(), notification.how) == (day, "email")
        assert AuditEntry.objects.filter(action="dsr.recipient_notified", target_id=str(req.pk)).exists()
        page = client.get(reverse("accounts_dsr:dpo-request", args=[req.pk])).content.decode()
        assert "Not yet notified" not in page
        queue = client.get(reverse("accounts_dsr:dpo-requests")).content.decode()
        assert "recipients-to-notify" not in queue

    def test_the_queue_shows_a_request_with_recipients_still_to_notify(self, client, alice, legal1, dpo):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        _rectified(alice, dpo)
        queue = verified_client(client, dpo).get(reverse("accounts_dsr:dpo-requests")).content.decode()
        assert "recipients-to-notify" in queue

    def test_the_person_sees_the_recipients_in_the_export_but_never_a_secret_one(
            self, alice, legal1, dpo, django_capture_on_commit_callbacks):
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        delivered_disclosure(user=alice, officer=legal1, reference="SECRET-1", secrecy_days=30)
        rectified = _rectified(alice, dpo)
        with django_capture_on_commit_callbacks(execute=True):
            access = dsr_request_create(user=alice, kind=Kind.ACCESS)
        data = export_json_valid(ExportFile.objects.get(request=access))
        rows = section(data, "recipient_notifications")["rows"]
        assert [(r["request"], r["recipient"], r["notified_on"]) for r in rows] == [
            (rectified.pk, "Politie Eenheid Test", None)]
        assert "SECRET" not in str(data)
