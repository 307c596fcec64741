"""Click-to-call in the portal (issue 12): tokens made on the security page (shown once, listed with their
last use, revocable), the Call buttons beside one's own calls, the page of recent set-ups, and the blocked
prefixes kept by fraud analysts (billing staff no longer: blocking destinations is fraud control, not invoicing)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from accounts.models import CallSetupToken
from tests.factories import make_cdr, verified_client
from tests.traffic.call_setup_helpers import URL, post, switch_settings
from tests.traffic.switch_fakes import FakeAmi
from traffic.models import BlockedPrefix
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def make_token(client, name="Firefox at work") -> str:
    body = client.post("/accounts/security/call-setup-tokens/", {"name": name}, follow=True).content.decode()
    return re.search(r'id="new-call-setup-token">([^<]+)<', body).group(1)


class TestTokensOnTheSecurityPage:
    def test_a_new_token_is_shown_once_and_only_its_digest_is_stored(self, client, alice):
        verified_client(client, alice)
        text = make_token(client)
        row = CallSetupToken.objects.get(user=alice)
        assert text.startswith("vxc_") and len(text) > 40
        assert text not in repr(list(CallSetupToken.objects.values()))
        listing = client.get("/accounts/security/").content.decode()
        assert text not in listing and row.hint in listing and "Firefox at work" in listing and "never" in listing
        assert AuditEntry.objects.filter(action="call_setup_token.create").exists()

    def test_last_use_is_listed_and_a_revoked_token_stops_working(self, client, alice):
        verified_client(client, alice)
        text = make_token(client)
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            assert post(client.__class__(), text, {"number": "020 555 0199"}).status_code == 201
            row = CallSetupToken.objects.get(user=alice)
            assert row.last_used_at is not None
            assert client.post(f"/accounts/security/call-setup-tokens/{row.pk}/revoke/",
                               {"confirm": "yes"}).status_code == 302
            assert post(client.__class__(), text, {"number": "020 555 0199"}).status_code == 401
        assert "revoked" in client.get("/accounts/security/").content.decode()

    def test_a_token_needs_a_name(self, client, alice):
        verified_client(client, alice)
        response = client.post("/accounts/security/call-setup-tokens/", {"name": "  "})
        assert response.status_code == 400 and 'id="token-error"' in response.content.decode()
        assert not CallSetupToken.objects.exists()

    def test_nobody_revokes_another_users_token(self, client, alice, bob):
        verified_client(client, bob)
        make_token(client)
        theirs = CallSetupToken.objects.get(user=bob)
        verified_client(client, alice)
        assert client.post(f"/accounts/security/call-setup-tokens/{theirs.pk}/revoke/").status_code == 404
        theirs.refresh_from_db()
        assert theirs.active


class TestCallButtons:
    def test_call_history_has_a_call_button_beside_the_other_party_and_loads_the_script(self, client, alice):
        make_cdr(account=alice, dst="+31699993678", started_at=T0)
        body = verified_client(client, alice).get("/calls/").content.decode()
        assert 'data-call-number="+31699993678"' in body
        assert "js/call-button.js" in body and "<script>" not in body  # no inline script (CSP)
        assert 'name="voipxs-call-setup" content="/api/v1/me/calls/setup/"' in body

    def test_a_contractors_masked_view_has_no_call_buttons(self, client, acme_admin, bob):
        make_cdr(account=bob, src="+31205550201", dst="+31699993678", started_at=T0)
        assert "+31699993" in verified_client(client, acme_admin).get("/calls/contractor/").content.decode()
        body = verified_client(client, acme_admin).get("/calls/contractor/").content.decode()
        assert "data-call-number" not in body

    def test_the_session_sets_up_a_call_with_the_same_api(self, client, alice):
        verified_client(client, alice)
        with FakeAmi() as fake, switch_settings("asterisk", fake.port):
            response = client.post(URL, {"number": "+31699993678"}, content_type="application/json")
        assert response.status_code == 201
        page = client.get("/calls/click-to-call/").content.decode()
        assert "+31699993678" in page and "portal" in page
        assert re.search(r"<td[^>]*>\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d</td>", page)  # "5 Dec 2026 14:03:11"
        client.cookies["django_language"] = "nl"
        dutch = client.get("/calls/click-to-call/").content.decode()
        assert re.search(r"<td[^>]*>\d{1,2} [a-z]{3} \d{4} \d\d:\d\d:\d\d</td>", dutch)  # "5 dec 2026": lower case


class TestBlockedPrefixesPage:
    def test_the_fraud_analyst_blocks_and_unblocks_a_prefix(self, client, fraud_analyst):
        verified_client(client, fraud_analyst)
        assert client.post("/calls/staff/blocked-prefixes/", {"prefix": "+3187", "reason": "shared_cost"}).status_code == 302
        blocked = BlockedPrefix.objects.get(prefix="3187")
        assert "+3187" in client.get("/calls/staff/blocked-prefixes/").content.decode()
        response = client.post("/calls/staff/blocked-prefixes/", {"prefix": "31 87", "reason": "shared_cost"})
        assert response.status_code == 400 and "1 to 15 digits" in response.content.decode()
        # The reason is told to the customer: the analyst picks one, none is chosen for them.
        page = client.get("/calls/staff/blocked-prefixes/").content.decode()
        assert '<option value="" selected>' in page
        response = client.post("/calls/staff/blocked-prefixes/", {"prefix": "3188"})
        assert response.status_code == 400 and not BlockedPrefix.objects.filter(prefix="3188").exists()
        assert client.post(f"/calls/staff/blocked-prefixes/{blocked.pk}/remove/", {"confirm": "yes"}).status_code == 302
        assert not BlockedPrefix.objects.filter(prefix="3187").exists()
        # Fraud prevention: the changes are recorded under the purpose security, as the page's reads are.
        changes = AuditEntry.objects.filter(action__in=("blocked_prefix.add", "blocked_prefix.remove"))
        assert sorted(changes.values_list("action", "purpose")) == [
            ("blocked_prefix.add", "security"), ("blocked_prefix.remove", "security")]

    def test_unblocking_asks_first_naming_the_prefix(self, client, fraud_analyst):
        blocked = BlockedPrefix.objects.create(prefix="3190", reason="premium_rate")
        verified_client(client, fraud_analyst)
        response = client.post(f"/calls/staff/blocked-prefixes/{blocked.pk}/remove/")
        body = response.content.decode()
        assert response.status_code == 200 and "Unblock the prefix +3190?" in body and "again at once" in body
        assert blocked.get_reason_display() in body and 'name="confirm" value="yes"' in body
        assert BlockedPrefix.objects.filter(pk=blocked.pk).exists()
        client.cookies["django_language"] = "nl"
        dutch = client.post(f"/calls/staff/blocked-prefixes/{blocked.pk}/remove/").content.decode()
        assert '<html lang="nl">' in dutch and "Bevestig alstublieft" in dutch and "+3190" in dutch
        assert BlockedPrefix.objects.filter(pk=blocked.pk).exists()
        client.cookies["django_language"] = "en"
        done = client.post(f"/calls/staff/blocked-prefixes/{blocked.pk}/remove/", {"confirm": "yes"}, follow=True)
        assert "The prefix +3190 is no longer blocked." in done.content.decode()
        assert not BlockedPrefix.objects.filter(pk=blocked.pk).exists()
        assert client.post(f"/calls/staff/blocked-prefixes/{blocked.pk}/remove/").status_code == 404

    @pytest.mark.parametrize("persona", ["alice", "billing_staff", "noc"])
    def test_customers_billing_staff_and_network_operations_may_not(self, request, client, persona):
        blocked = BlockedPrefix.objects.create(prefix="3190", reason="premium_rate")
        verified_client(client, request.getfixturevalue(persona))
        assert client.post(f"/calls/staff/blocked-prefixes/{blocked.pk}/remove/", {"confirm": "yes"}).status_code == 403
        assert BlockedPrefix.objects.filter(pk=blocked.pk).exists()
        assert client.get("/calls/staff/blocked-prefixes/").status_code == 403
        assert client.post("/calls/staff/blocked-prefixes/", {"prefix": "31", "reason": "other"}).status_code == 403
        assert not BlockedPrefix.objects.filter(prefix="31").exists()
