"""POST /api/v1/me/calls/setup/ (issue 12): what people click becomes E.164 in the customer's region, blocked
prefixes and the rate limit refuse with a 4xx naming why, a revoked token opens nothing, a failing switch
answers 503 with nothing recorded, and nothing of the page (Referer, Origin path, User-Agent) is kept."""
from __future__ import annotations

import logging

import pytest

from accounts.services.call_setup_tokens import call_setup_token_revoke
from tests.factories import make_user, verified_client
from tests.traffic.call_setup_helpers import URL, post, switch_settings, token_for
from tests.traffic.switch_fakes import FakeAmi, FakeEsl, free_port
from traffic.models import BlockedPrefix, CallSetup
from traffic.services.call_setup import clicked_number_e164
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db


def exten_sent(fake: FakeAmi) -> str:
    originate = next(m for m in fake.received if "Action: Originate" in m)
    return next(line.split(": ", 1)[1] for line in originate.split("\r\n") if line.startswith("Exten: "))


class TestNormalisation:
    @pytest.mark.parametrize("clicked", ["020-555 0199", "+31 (0)20 5550199", "tel:+31205550199",
                                         "tel:+31-20-555-0199;phone-context=example", "0031 20 555 01 99"])
    def test_what_people_click_becomes_e164(self, clicked):
        assert clicked_number_e164(clicked, region="NL") == "+31205550199"

    @pytest.mark.parametrize("clicked", ["", "call me", "tel:", "12", "+31 20 555 0199 ext " + "9" * 60])
    def test_what_is_no_number_is_refused(self, clicked):
        with pytest.raises(Exception) as refused:
            clicked_number_e164(clicked, region="NL")
        assert "not a phone number" in str(refused.value) or "15 digits" in str(refused.value)
        assert clicked not in str(refused.value) or not clicked

    @pytest.mark.parametrize("clicked", ["020-555 0199", "+31 (0)20 5550199", "tel:+31205550199"])
    def test_the_switch_dials_the_e164_number(self, client, alice, clicked):
        token = token_for(alice)
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = post(client, token, {"number": clicked})
        assert response.status_code == 201, response.content
        assert exten_sent(fake) == "+31205550199"
        assert response.json()["number"] == "+31205550199" and response.json()["own_number"] == "+31205550101"

    def test_a_national_number_is_read_in_the_region_of_the_customers_own_number(self, client, db):
        belgian = make_user("brussels", numbers=["+3225550101"])
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = post(client, token_for(belgian), {"number": "02 555 01 02"})
        assert response.status_code == 201, response.content
        assert exten_sent(fake) == "+3225550102"

    def test_a_bad_number_is_a_400_naming_the_field(self, client, alice):
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = post(client, token_for(alice), {"number": "call me maybe"})
        assert response.status_code == 400
        assert "number" in response.json() and fake.received == []


class TestRefusals:
    @pytest.mark.parametrize("clicked, reason", [("0900 1234567", "premium_rate"), ("+881 6 1234 5678", "satellite")])
    def test_blocked_prefixes_are_refused_with_the_reason(self, client, alice, clicked, reason):
        BlockedPrefix.objects.get_or_create(prefix="31900", defaults={"reason": "premium_rate"})
        BlockedPrefix.objects.get_or_create(prefix="881", defaults={"reason": "satellite"})
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = post(client, token_for(alice), {"number": clicked})
        assert response.status_code == 400
        assert response.json()["reason"] == reason and response.json()["number"]
        assert fake.received == [] and not CallSetup.objects.exists()

    def test_rate_limit_per_user(self, client, alice, bob):
        alice_token, bob_token = token_for(alice), token_for(bob)
        with FakeAmi() as fake, switch_settings("asterisk", fake.port, CALL_SETUP_RATE_LIMIT=2):
            codes = [post(client, alice_token, {"number": "020 555 0199"}).status_code for _ in range(3)]
            other = post(client, bob_token, {"number": "020 555 0199"})
        assert codes == [201, 201, 429]
        assert other.status_code == 201  # counted per user
        assert CallSetup.objects.filter(user=alice).count() == 2

    def test_revoked_token_opens_nothing(self, client, alice):
        token = token_for(alice)
        row = alice.call_setup_tokens.get()
        call_setup_token_revoke(user=alice, token_id=row.pk)
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = post(client, token, {"number": "020 555 0199"})
        assert response.status_code == 401 and fake.received == []

    def test_the_token_opens_only_call_setup(self, client, alice):
        token = token_for(alice)
        for url in ("/api/v1/me/", "/api/v1/me/calls/", "/api/v1/me/numbers/"):
            assert client.get(url, HTTP_AUTHORIZATION=f"CallSetup {token}").status_code in (401, 403), url

    def test_another_users_number_cannot_ring_first(self, client, alice, bob):
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = post(client, token_for(alice), {"number": "020 555 0199", "from": bob.phone_numbers.get().pk})
        assert response.status_code == 400 and "from" in response.json() and fake.received == []

    def test_staff_roles_have_no_call_setup(self, client, billing_staff):
        verified_client(client, billing_staff)
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = client.post(URL, {"number": "020 555 0199"}, content_type="application/json")
        assert response.status_code == 403 and fake.received == []
        assert client.get("/calls/click-to-call/").status_code == 403
        assert client.post("/accounts/security/call-setup-tokens/", {"name": "x"}).status_code == 403

    def test_fields_beyond_number_and_from_are_refused(self, client, alice):
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = post(client, token_for(alice), {"number": "020 555 0199", "page": "https://example.org/"})
        assert response.status_code == 400 and fake.received == []


class TestSwitchFailures:
    @pytest.mark.parametrize("backend, fake_class", [("asterisk", FakeAmi), ("freeswitch", FakeEsl)])
    @pytest.mark.parametrize("mode, reason", [("bad_login", "login"), ("silent", "timeout"),
                                              ("refuse_originate", "refused")])
    def test_a_failing_switch_is_a_503_and_nothing_recorded(self, client, alice, backend, fake_class, mode, reason):
        token = token_for(alice)
        with fake_class(mode=mode) as fake, switch_settings(backend, fake.port, timeout=0.5):
            response = post(client, token, {"number": "020 555 0199"})
        assert response.status_code == 503
        assert response.json()["reason"] == reason and "Nothing was dialled" in response.json()["detail"]
        assert not CallSetup.objects.exists()
        assert AuditEntry.objects.filter(action="call_setup.refused", extra__reason=f"switch_{reason}").exists()

    @pytest.mark.parametrize("backend", ["asterisk", "freeswitch"])
    def test_switch_down(self, client, alice, backend):
        with switch_settings(backend, free_port()):
            response = post(client, token_for(alice), {"number": "020 555 0199"})
        assert response.status_code == 503 and response.json()["reason"] == "down"
        assert not CallSetup.objects.exists()

    def test_no_backend_configured(self, client, alice, settings):
        settings.CALL_SETUP_BACKEND = ""
        response = post(client, token_for(alice), {"number": "020 555 0199"})
        assert response.status_code == 503 and response.json()["reason"] == "off"

    def test_freeswitch_success(self, client, alice):
        with FakeEsl() as fake, switch_settings("freeswitch", fake.port):
            response = post(client, token_for(alice), {"number": "020 555 0199"})
        assert response.status_code == 201
        setup = CallSetup.objects.get()
        assert setup.backend == "freeswitch" and setup.switch_reference and setup.number == "+31205550199"


class TestNothingOfThePage:
    def test_no_header_of_the_request_is_stored_or_logged(self, client, alice, caplog):
        token = token_for(alice)
        marker_page = "https://shop.example/orders/ORD-4711?customer=jansen"
        with caplog.at_level(logging.DEBUG), FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = post(client, token, {"number": "020 555 0199"}, HTTP_REFERER=marker_page,
                            HTTP_ORIGIN="chrome-extension://abcdefghijklmnop", HTTP_USER_AGENT="Mozilla/5.0 MarkerAgent/9")
        assert response.status_code == 201
        stored = repr([vars(row) for row in CallSetup.objects.all()]) + repr(
            [vars(row) for row in AuditEntry.objects.all()]) + repr([vars(t) for t in alice.call_setup_tokens.all()])
        for secret in ("shop.example", "ORD-4711", "jansen", "MarkerAgent", "abcdefghijklmnop", "Mozilla"):
            assert secret not in stored and secret not in caplog.text and secret not in repr(fake.received)
        # the set-up is audited as a use of the number under its purpose, without the number in the clear
        audit = AuditEntry.objects.filter(purpose="call_setup").values_list("action", flat=True)
        assert {"call_setup.request", "call_setup.create"} <= set(audit)
        assert "5550199" not in repr(list(AuditEntry.objects.values()))

    def test_cors_preflight_from_an_extension_without_credentials(self, client):
        response = client.options(URL, HTTP_ORIGIN="chrome-extension://abcdefghijklmnop",
                                  HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                                  HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type")
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "chrome-extension://abcdefghijklmnop"
        assert "Authorization" in response["Access-Control-Allow-Headers"]
        assert not response.has_header("Access-Control-Allow-Credentials")
        web = client.options(URL, HTTP_ORIGIN="https://evil.example")
        assert not web.has_header("Access-Control-Allow-Origin")

    def test_own_numbers_for_the_options_page(self, client, alice):
        response = client.get(URL, HTTP_AUTHORIZATION=f"CallSetup {token_for(alice)}")
        assert response.status_code == 200
        assert [n["number"] for n in response.json()] == ["+31205550101"]
