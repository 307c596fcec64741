"""The customer's "Your privacy" page shows each of their requests with what they wrote, our answer and its status,
read through the purpose-bound selector (audited), and only their own: another customer's words never show."""
from __future__ import annotations

import re

import pytest

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create, dsr_request_reject
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind = DataSubjectRequest.Kind


def _row(body: str, pk: int) -> str:
    match = re.search(rf'<tr id="dsr-{pk}"[^>]*>(.*?)</tr>', body, re.S)
    assert match, f"request #{pk} is not on the page"
    return match.group(1)


class MineDetailsTests:
    def test_it_shows_what_the_customer_wrote_the_answer_and_the_status(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My street is Keizersgracht 1,\nnot 2")
        dsr_request_reject(request=req, answer="We could not verify the new address.", actor=dpo)
        verified_client(client, alice)
        response = client.get("/privacy-requests/")
        assert response.status_code == 200
        row = _row(response.content.decode(), req.pk)
        assert "My street is Keizersgracht 1,<br>not 2" in row  # their words, line breaks kept
        assert "We could not verify the new address." in row
        assert re.search(r'<span class="badge s-rejected">Rejected</span>', row)
        assert AuditEntry.objects.filter(action="dsr.list_own", purpose="self_service", outcome="ok").exists()

    def test_it_escapes_the_words(self, client, alice):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="<script>alert(1)</script>")
        verified_client(client, alice)
        row = _row(client.get("/privacy-requests/").content.decode(), req.pk)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row and "<script>" not in row

    def test_another_customer_never_sees_them(self, client, alice, mallory):
        dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="Alice's own words about her label")
        verified_client(client, mallory)
        body = client.get("/privacy-requests/").content.decode()
        assert "Alice's own words" not in body and "No requests yet." in body
