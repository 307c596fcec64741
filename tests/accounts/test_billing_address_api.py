"""The invoice address through the portal API (GET/PUT /api/v1/me/billing-address/): the same rules as
the page, a bad field answered 400 with its name, a Contractor's User refused (its admin sets it)."""
from __future__ import annotations

import pytest

from accounts.models import BillingAddress
from accounts.services.billing_address import billing_address_set
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/billing-address/"
ADDRESS = {"name": "Alice de Vries", "street": "Prinsengracht", "house_number": "263 hs", "postcode": "1016gv",
           "town": "Amsterdam", "country": "NL"}


class MeBillingAddressApiTests:
    def test_it_sets_the_address_and_reads_it_back_as_the_invoice_prints_it(self, client, alice):
        client.force_login(alice)
        assert client.get(URL).json() == {"address": None, "may_change": True}
        response = client.put(URL, ADDRESS, content_type="application/json")
        assert response.status_code == 200, response.content
        data = client.get(URL).json()
        assert data["may_change"] is True and data["address"]["postcode"] == "1016 GV"
        assert data["address"]["name"] == "Alice de Vries"
        assert data["address"]["lines"] == ["Prinsengracht 263 hs", "1016 GV Amsterdam"]

    def test_reading_it_is_audited_under_self_service(self, client, alice):
        billing_address_set(actor=alice, user=alice, **ADDRESS)
        client.force_login(alice)
        client.get(URL)
        entry = AuditEntry.objects.get(action="billing_address.get")
        assert entry.purpose == "self_service" and "Prinsengracht" not in str(entry.extra)

    @pytest.mark.parametrize(("field", "value"), [("postcode", "1016 G"), ("postcode", "1016-GV"), ("street", "  "),
                                                  ("town", ""), ("country", "XX"), ("name", "x" * 201)])
    def test_a_bad_field_is_answered_400_with_its_name_and_nothing_is_stored(self, client, alice, field, value):
        client.force_login(alice)
        response = client.put(URL, {**ADDRESS, field: value}, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), response.content
        assert not BillingAddress.objects.exists()

    def test_a_missing_field_is_named(self, client, alice):
        client.force_login(alice)
        body = {k: v for k, v in ADDRESS.items() if k != "house_number"}
        response = client.put(URL, body, content_type="application/json")
        assert response.status_code == 400 and list(response.json()) == ["house_number"]

    def test_a_wrong_dutch_postcode_is_explained(self, client, alice):
        client.force_login(alice)
        response = client.put(URL, {**ADDRESS, "postcode": "12345"}, content_type="application/json")
        assert response.json()["postcode"] == ["Enter a Dutch postcode: four digits and two letters, like 1234 AB."]

    def test_a_dutch_caller_is_answered_in_dutch(self, client, alice):
        client.force_login(alice)
        response = client.put(URL, {**ADDRESS, "postcode": "12345"}, content_type="application/json",
                              HTTP_ACCEPT_LANGUAGE="nl")
        assert response.json()["postcode"] == ["Vul een Nederlandse postcode in: vier cijfers en twee letters, "
                                               "bijvoorbeeld 1234 AB."]

    def test_a_belgian_postcode_is_taken_as_written(self, client, alice):
        client.force_login(alice)
        response = client.put(URL, {**ADDRESS, "postcode": "1000", "country": "BE"}, content_type="application/json")
        assert response.status_code == 200 and response.json()["address"]["lines"][-1] == "BE"

    def test_a_contractors_user_reads_the_contractors_address_and_may_not_change_it(self, client, bob, acme_admin):
        billing_address_set(actor=acme_admin, user=acme_admin, **{**ADDRESS, "name": "Acme B.V."})
        client.force_login(bob)
        data = client.get(URL).json()
        assert data["address"]["name"] == "Acme B.V." and data["may_change"] is False
        refused = client.put(URL, ADDRESS, content_type="application/json")
        assert refused.status_code == 403 and "administrator" in refused.json()["detail"]
        assert BillingAddress.objects.get().name == "Acme B.V."

    def test_the_contractors_admin_sets_the_contractors(self, client, bob, acme_admin):
        client.force_login(acme_admin)
        assert client.put(URL, {**ADDRESS, "name": "Acme B.V."}, content_type="application/json").status_code == 200
        address = BillingAddress.objects.get()
        assert address.contractor_id == bob.contractor_id and address.user_id is None

    def test_it_refuses_anonymous_callers(self, client):
        assert client.get(URL).status_code in (401, 403)
        assert client.put(URL, ADDRESS, content_type="application/json").status_code in (401, 403)
        assert not BillingAddress.objects.exists()

    def test_the_schema_documents_it(self, client, alice):
        client.force_login(alice)
        schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
        assert {"get", "put"} <= set(schema["paths"][URL])
