from __future__ import annotations

import base64
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.timezone import localdate, now
from rest_framework.test import APIClient

from disclosures.models import DisclosureRequest, Notice, PackageDownload
from disclosures.services.jobs import disclosure_deadlines_escalate, disclosure_secrecy_reminders
from disclosures.services.notices import disclosure_notice_send
from disclosures.services.transitions import disclosure_request_reject
from tests.factories import make_cdr, verified_client

from .certificates import police_recipient
from .conftest import ALICE_NUMBER, OTHER, receive, to_state

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["disclosures:dashboard", "disclosures:authorities", "disclosures:request-new", "disclosures:report"]


def _api(user) -> APIClient:
    client = APIClient()
    verified_client(client, user)
    return client


class CustomerSeesNothingTests:
    def test_a_customer_gets_404_on_every_staff_page_and_403_on_every_staff_api(self, client, alice, legal1, authority):
        req = receive(legal1, authority)
        verified_client(client, alice)
        for name in STAFF_PAGES:
            assert client.get(reverse(name)).status_code == 404, name
        for path in (f"/disclosures/requests/{req.pk}/", f"/disclosures/requests/{req.pk}/download/"):
            assert client.get(path).status_code == 404
        assert client.post(f"/disclosures/requests/{req.pk}/approve/").status_code == 404
        api = _api(alice)
        for p in _staff_api_paths(req.pk):
            assert api.get(p).status_code in (403, 405), p
            assert api.post(p, {}, format="json").status_code in (403, 405), p
        assert DisclosureRequest.objects.get(pk=req.pk).approvals.count() == 0

    def test_other_staff_roles_get_nothing_either(self, client, dpo, billing_staff):
        for user in (dpo, billing_staff):
            verified_client(client, user)
            assert client.get(reverse("disclosures:dashboard")).status_code == 404
            assert _api(user).get("/api/v1/staff/disclosures/requests/").status_code == 403


def _staff_api_paths(pk: int) -> list[str]:
    base = "/api/v1/staff/disclosures/"
    return [f"{base}authorities/", f"{base}authorities/create/", f"{base}authorities/1/verify/", f"{base}requests/",
            f"{base}requests/receive/", f"{base}requests/{pk}/", f"{base}requests/{pk}/approve/",
            f"{base}requests/{pk}/verify-authority/", f"{base}requests/{pk}/package/", f"{base}deadlines/",
            f"{base}transparency/?year=2026&half=1", f"{base}requests/{pk}/documents/", f"{base}requests/{pk}/narrow/"]


class OfficerPagesTests:
    def test_the_workflow_through_the_pages(self, client, legal1, legal2, legal3, authority, alice):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=2))
        c = verified_client(client, legal1)
        today = now().date()
        r = c.post(reverse("disclosures:request-new"), {
            "authority": authority.pk, "reference": "PV-2026-77", "legal_basis": "sv_126n", "categories": ["traffic_data"],
            "numbers": "020 555 0101", "window_start": (today - timedelta(days=30)).isoformat(),
            "window_end": (today + timedelta(days=1)).isoformat(), "deadline": (now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            # The order came in writing: the officer files it with the request.
            "document": SimpleUploadedFile("vordering.pdf", b"%PDF-1.7 signed order", "application/pdf"),
            "document_is_order": "on",
        })
        assert r.status_code == 302, r.content
        req = DisclosureRequest.objects.get(reference="PV-2026-77")
        assert req.written_order_at is not None and req.documents.get().is_written_order
        assert c.get(reverse("disclosures:dashboard")).content.count(b"PV-2026-77") == 1
        assert c.post(f"/disclosures/requests/{req.pk}/verify/", {"channel": "phone", "confirm": "yes"}).status_code == 302
        assert c.post(f"/disclosures/requests/{req.pk}/review/").status_code == 302
        r = c.post(f"/disclosures/requests/{req.pk}/approve/", {"confirm": "yes"})
        assert r.status_code == 400 and b"took the request in" in r.content
        for officer in (legal2, legal3):
            verified_client(client, officer)
            assert client.post(f"/disclosures/requests/{req.pk}/approve/", {"confirm": "yes"}).status_code == 302
        verified_client(client, legal1)
        from django.test import TestCase
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert client.post(f"/disclosures/requests/{req.pk}/produce/").status_code == 302
        assert client.post(f"/disclosures/requests/{req.pk}/check/").status_code == 400  # producer
        verified_client(client, legal2)
        assert client.post(f"/disclosures/requests/{req.pk}/check/").status_code == 302
        r = client.get(f"/disclosures/requests/{req.pk}/download/")  # encrypted to the authority's certificate
        assert r.status_code == 200 and r["Content-Type"].startswith("application/pkcs7-mime")
        assert r["Content-Disposition"].endswith(f'disclosure-{req.pk}.zip.p7m"')
        opened = police_recipient().decrypt(b"".join(r.streaming_content))  # streamed (FileResponse)
        assert "calls.csv" in zipfile.ZipFile(io.BytesIO(opened)).namelist()
        assert PackageDownload.objects.filter(downloaded_by=legal2).count() == 1
        assert client.post(f"/disclosures/requests/{req.pk}/deliver/", {"receipt": "", "confirm": "yes"}).status_code == 400
        r = client.post(f"/disclosures/requests/{req.pk}/deliver/", {"receipt": "PV receipt 1"})
        assert r.status_code == 400 and b"Tick the box to confirm" in r.content  # the page asks first
        assert DisclosureRequest.objects.get(pk=req.pk).status == "checked"
        assert client.post(f"/disclosures/requests/{req.pk}/deliver/",
                           {"receipt": "PV receipt 1", "confirm": "yes"}).status_code == 302
        assert DisclosureRequest.objects.get(pk=req.pk).status == "delivered"

    def test_bad_input_is_a_400_naming_the_field(self, client, legal1, authority):
        c = verified_client(client, legal1)
        r = c.post(reverse("disclosures:request-new"), {"authority": authority.pk, "reference": "X", "legal_basis": "sv_126na",
                                                         "categories": ["traffic_data"], "numbers": "1",
                                                         "window_start": "2026-01-01", "window_end": "2026-02-01",
                                                         "deadline": "2026-03-01T10:00"})
        assert r.status_code == 400 and b"does not allow these data categories" in r.content


class ApiTests:
    def test_receive_approve_and_refusals_over_the_api(self, legal1, legal2, authority, alice):
        api = _api(legal1)
        body = {"authority": authority.pk, "reference": "API-1", "legal_basis": "sv_126n", "categories": ["traffic_data"],
                "numbers": [ALICE_NUMBER], "window_start": (now() - timedelta(days=5)).isoformat(),
                "window_end": now().isoformat(), "deadline": (now() + timedelta(days=1)).isoformat()}
        r = api.post("/api/v1/staff/disclosures/requests/receive/", body, format="json")
        assert r.status_code == 201, r.json()
        pk = r.json()["id"]
        assert ALICE_NUMBER not in r.content.decode()
        r = api.post("/api/v1/staff/disclosures/requests/receive/", {**body, "reference": "API-2", "legal_basis": "sv_126na"}, format="json")
        assert r.status_code == 400 and r.json()["field"] == "categories"
        r = api.post("/api/v1/staff/disclosures/requests/receive/", {**body, "reference": "API-3", "numbers": []}, format="json")
        assert r.status_code == 400 and r.json()["field"] == "numbers"
        r = api.post(f"/api/v1/staff/disclosures/requests/{pk}/approve/", format="json")
        assert r.status_code == 400  # wrong state
        order = {"title": "vordering.pdf", "content_base64": base64.b64encode(b"%PDF-1.7 order").decode(),
                 "is_written_order": True}
        assert api.post(f"/api/v1/staff/disclosures/requests/{pk}/documents/", order, format="json").status_code == 201
        assert api.post(f"/api/v1/staff/disclosures/requests/{pk}/verify-authority/", {"channel": "phone"}, format="json").status_code == 200
        assert api.post(f"/api/v1/staff/disclosures/requests/{pk}/start-review/", format="json").json()["status"] == "under_review"
        r = api.post(f"/api/v1/staff/disclosures/requests/{pk}/approve/", format="json")
        assert r.status_code == 400 and "took the request in" in r.json()["detail"]
        assert _api(legal2).post(f"/api/v1/staff/disclosures/requests/{pk}/approve/", format="json").json()["approvers"] == [legal2.pk]
        r = api.get("/api/v1/staff/disclosures/deadlines/")
        assert [row["id"] for row in r.json()] == [pk]
        r = api.post(f"/api/v1/staff/disclosures/requests/{pk}/documents/", {"title": "order", "content_base64": "%%%"}, format="json")
        assert r.status_code == 400 and r.json()["field"] == "content_base64"


class NoticeTests:
    def test_civil_requests_notify_after_delivery_unless_secret(self, client, legal1, legal2, legal3, dispute_body, alice, bob):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        open_req = receive(legal1, dispute_body, basis="dispute_ruling", account_ids=[alice.pk], numbers=[])
        to_state(open_req, "delivered", intake=legal1, approvers=[legal2, legal3])
        secret = receive(legal1, dispute_body, basis="court_order", numbers=[ALICE_NUMBER],
                         secrecy_until=(now() + timedelta(days=10)).date())
        to_state(secret, "delivered", intake=legal1, approvers=[legal2, legal3])
        assert Notice.objects.get(request=open_req, user=alice).state == "draft"
        assert Notice.objects.get(request=secret, user=alice).state == "withheld"
        verified_client(client, alice)
        assert b"There are no disclosures" in client.get(reverse("disclosures:notices")).content  # a draft, unsent
        verified_client(client, legal1)
        assert client.post(f"/disclosures/requests/{open_req.pk}/send-notices/", {"confirm": "yes"}).status_code == 302
        verified_client(client, alice)
        page = client.get(reverse("disclosures:notices"))
        assert page.status_code == 200 and page.content.count(b"data was disclosed") == 1
        verified_client(client, bob)
        assert b"There are no disclosures" in client.get(reverse("disclosures:notices")).content
        # the user's data export lists the disclosure, but not the secret one
        from disclosures.selectors import disclosures_about_user
        assert [d["request"] for d in disclosures_about_user(alice)] == [open_req.pk]
        # when the secrecy order ends, the officers are reminded once, then can send it
        from django.core import mail
        assert disclosure_secrecy_reminders(now=now() + timedelta(days=11)) == 1
        assert disclosure_secrecy_reminders(now=now() + timedelta(days=12)) == 0
        assert len(mail.outbox) == 1 and ALICE_NUMBER not in mail.outbox[0].body
        notice = Notice.objects.get(request=secret, user=alice)
        from voipxs.exceptions import ApplicationError
        with pytest.raises(ApplicationError, match="still running"):
            disclosure_notice_send(actor=legal1, notice=notice)  # still secret today
        r = _api(legal1).post(f"/api/v1/staff/disclosures/requests/{secret.pk}/send-notices/", format="json")
        assert r.status_code == 400 and Notice.objects.get(pk=notice.pk).state == "withheld"
        DisclosureRequest.objects.filter(pk=secret.pk).update(secrecy_until=now().date())
        verified_client(client, legal1)
        assert client.post(f"/disclosures/requests/{secret.pk}/send-notices/").status_code == 200  # asks first
        assert Notice.objects.get(pk=notice.pk).state == "withheld"
        assert client.post(f"/disclosures/requests/{secret.pk}/send-notices/", {"confirm": "yes"}).status_code == 302
        assert Notice.objects.get(pk=notice.pk).state == "sent"
        verified_client(client, alice)
        assert client.get(reverse("disclosures:notices")).content.count(b"data was disclosed") == 2

    def test_criminal_requests_do_not_notify_by_default(self, legal1, legal2, legal3, authority, alice):
        req = to_state(receive(legal1, authority), "delivered", intake=legal1, approvers=[legal2, legal3])
        assert not Notice.objects.filter(request=req).exists()


class DeadlineTests:
    def test_escalation_emails_officers_before_the_deadline_once(self, legal1, legal2, authority):
        from django.core import mail

        near = receive(legal1, authority)
        DisclosureRequest.objects.filter(pk=near.pk).update(deadline=now() + timedelta(hours=5))
        far = receive(legal1, authority)
        DisclosureRequest.objects.filter(pk=far.pk).update(deadline=now() + timedelta(days=5))
        assert disclosure_deadlines_escalate(hours=24) == 1
        assert disclosure_deadlines_escalate(hours=24) == 0
        assert len(mail.outbox) == 1 and f"#{near.pk}" in mail.outbox[0].body
        from voipxs.models import AuditEntry
        assert AuditEntry.objects.filter(action="disclosure.escalate", target_id=str(near.pk)).exists()


class TransparencyTests:
    def test_a_small_count_cannot_be_worked_out_from_the_total(self, client, legal1, authority, settings):
        # Six 126n requests and one 126na: with the total (7) and 126n (6) shown, 126na's "< 5" was 7 - 6 = 1.
        settings.DISCLOSURE_REPORT_THRESHOLD = 5
        for _ in range(6):
            receive(legal1, authority)
        receive(legal1, authority, basis="sv_126na", categories=("user_data",))
        from disclosures.selectors import transparency_report
        today = localdate()  # the report counts Amsterdam days
        half = 1 if today.month <= 6 else 2
        report = transparency_report(actor=legal1, year=today.year, half=half)
        assert report["total"] == "7" and report["by_basis"]["Sv 126na (user data)"] == "< 5"
        assert report["by_basis"]["Sv 126n (traffic data)"] == "*"
        rows = {row["basis"]: row for row in report["basis_table"]}
        assert rows["sv_126n"]["received"] == "*" and rows["sv_126na"]["received"] == "< 5"
        page = verified_client(client, legal1).get(reverse("disclosures:report"), {"year": today.year, "half": half})
        assert "cannot be worked out" in page.content.decode()

    def test_small_counts_are_suppressed(self, client, legal1, legal2, legal3, authority, settings):
        settings.DISCLOSURE_REPORT_THRESHOLD = 5
        for _ in range(6):
            receive(legal1, authority)
        disclosure_request_reject(actor=legal1, request=DisclosureRequest.objects.first(), reason="no basis")
        from disclosures.selectors import transparency_report
        today = localdate()
        half = 1 if today.month <= 6 else 2
        report = transparency_report(actor=legal1, year=today.year, half=half)
        assert report["total"] == "6"
        assert report["by_basis"]["Sv 126n (traffic data)"] == "6"
        assert report["by_outcome"]["Rejected"] == "< 5"
        assert report["by_outcome"]["Full"] == "0"
        c = verified_client(client, legal1)
        r = c.get(reverse("disclosures:report"), {"year": today.year, "half": half, "format": "csv"})
        assert r.status_code == 200 and b"< 5" in r.content
        r = _api(legal1).get("/api/v1/staff/disclosures/transparency/", {"year": today.year, "half": half})
        assert r.json()["total"] == "6"
        assert _api(legal1).get("/api/v1/staff/disclosures/transparency/", {"year": "x", "half": 1}).status_code == 400
