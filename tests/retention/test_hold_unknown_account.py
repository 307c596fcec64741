"""A legal hold names accounts by id: an id no account has holds nothing, so it is refused, never stored."""
from __future__ import annotations

import pytest
from django.urls import reverse

from retention.models import LegalHold
from retention.purge.run import purge_expired
from tests.factories import verified_client


@pytest.mark.django_db
class HoldUnknownAccountTests:
    @pytest.mark.parametrize("typed", ["999999", "123456789012345678901234"])
    def test_the_page_refuses_an_account_id_no_account_has(self, client, dpo, alice, typed):
        # A typo (or digits pasted from elsewhere): the page would list "2 accounts" held while one holds nothing.
        response = verified_client(client, dpo).post(reverse("retention:hold-place"), {
            "reason": "dispute", "reference": "court:2026-50", "account_ids": f"{alice.pk}, {typed}",
            "categories": ["cdr_billed", "cdr_unbilled"]})
        assert response.status_code == 400
        assert f"No account has the id {typed}." in response.content.decode()
        assert not LegalHold.objects.exists()
        assert purge_expired()["status"] == "done"

    def test_the_api_refuses_it_too(self, client, dpo, alice):
        response = verified_client(client, dpo).post("/api/v1/staff/retention/holds/place/", {
            "reason": "dispute", "reference": "court:2026-51", "account_ids": [alice.pk, 999999],
            "categories": ["cdr_billed"]}, content_type="application/json")
        assert response.status_code == 400 and "No account has the id 999999." in response.content.decode()
        assert not LegalHold.objects.exists()

    def test_a_dutch_reader_reads_the_refusal_in_dutch(self, client, dpo):
        response = verified_client(client, dpo).post(reverse("retention:hold-place"), {
            "reason": "dispute", "reference": "court:2026-52", "account_ids": "999999", "categories": ["cdr_billed"]},
            HTTP_ACCEPT_LANGUAGE="nl")
        assert response.status_code == 400 and "999999" in response.content.decode()
        assert "Er is geen account met id 999999." in response.content.decode()
