"""A legal hold's free-text reference is copied into the append-only audit log, so a DPO who types a
phone number or an e-mail address into it is refused (400 naming the field), and nothing is stored."""
from __future__ import annotations

import pytest

from retention.models import LegalHold
from tests.factories import verified_client
from voipxs.models import AuditEntry

BASE = "/api/v1/staff/retention"


@pytest.mark.django_db
class HoldReferenceTests:
    @pytest.mark.parametrize("reference", ["fraud 020 555 0101", "+31205550188", "zaak 020-5550188", "bob@example.org"])
    def test_it_refuses_a_reference_with_a_number_or_an_address(self, client, dpo, reference):
        c = verified_client(client, dpo)
        response = c.post(f"{BASE}/holds/place/", {"reason": "dispute", "reference": reference, "numbers": ["+31205550101"],
                                                    "categories": ["cdr_billed"]}, content_type="application/json")
        assert response.status_code == 400 and response.json()["field"] == "reference"
        assert not LegalHold.objects.exists()
        assert not AuditEntry.objects.filter(action="retention.hold_place").exists()

    @pytest.mark.parametrize("reference", ["dispute:9", "PL0900-2026123456", "2026/123456"])
    def test_it_accepts_case_numbers(self, client, dpo, reference):
        c = verified_client(client, dpo)
        response = c.post(f"{BASE}/holds/place/", {"reason": "dispute", "reference": reference, "numbers": ["+31205550101"],
                                                    "categories": ["cdr_billed"]}, content_type="application/json")
        assert response.status_code == 201
        assert LegalHold.objects.get().reference == reference
