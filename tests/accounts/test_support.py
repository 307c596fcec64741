"""Issue 13 item 6: the support role's job. Support finds a customer by a number they hold or their
e-mail address (blind index, exact), sees the account and numbers but never traffic, lifts a lockout,
resets a second factor with a reason code, and opens a rights request for the customer; every step is
audited under CUSTOMER_SUPPORT. Staff accounts are out of reach; other roles cannot use the desk."""
from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils.timezone import now
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.dsr.models import DataSubjectRequest
from accounts.support.services import TICKET_PERSONAL, support_two_factor_reset
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import make_cdr, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.register import processing_register

pytestmark = pytest.mark.django_db


def _locked_out(user, failures: int = 5) -> None:
    AccessAttempt.objects.create(username=user.username, ip_address="192.0.2.7", user_agent="test",
                                 failures_since_start=failures, attempt_time=now() - timedelta(minutes=1),
                                 get_data="", post_data="")


class SupportFindTests:
    def test_it_finds_a_customer_by_number_in_any_format_and_by_e_mail(self, client, support, alice, bob):
        c = verified_client(client, support)
        by_number = c.get("/support/", {"q": "020 555 0201"}).content.decode()
        assert f'href="/support/customers/{bob.pk}/"' in by_number and "alice" not in by_number
        by_mail = c.get("/support/", {"q": "  ALICE@example.org "}).content.decode()
        assert f'href="/support/customers/{alice.pk}/"' in by_mail and "bob" not in by_mail
        audit = AuditEntry.objects.filter(action="support.find", purpose="customer_support")
        assert audit.count() == 2 and {e.extra["by"] for e in audit} == {"number", "email"}
        assert "5550201" not in str([e.extra for e in audit]) and "alice" not in str([e.extra for e in audit])

    def test_partial_input_finds_nothing_and_bad_input_names_the_field(self, client, support, alice):
        c = verified_client(client, support)
        assert "No customer found" in c.get("/support/", {"q": "alice@"}).content.decode()
        bad = c.get("/support/", {"q": "12"})
        assert bad.status_code == 400 and 'id="id_q_error"' in bad.content.decode()

    def test_staff_accounts_are_not_found(self, client, support, dpo):
        c = verified_client(client, support)
        assert "No customer found" in c.get("/support/", {"q": "dpo@example.org"}).content.decode()
        assert c.get(f"/support/customers/{dpo.pk}/").status_code == 404

    @pytest.mark.parametrize("persona", ["alice", "billing_staff", "dpo", "acme_admin"])
    def test_other_roles_cannot_use_the_desk(self, client, persona, request, alice):
        verified_client(client, request.getfixturevalue(persona))
        assert client.get("/support/", {"q": "alice@example.org"}).status_code == 403
        assert client.get(f"/support/customers/{alice.pk}/").status_code == 403
        assert client.post(f"/support/customers/{alice.pk}/unlock/").status_code == 403


class SupportCardTests:
    def test_it_shows_account_and_numbers_but_never_traffic(self, client, support, bob, acme):
        make_cdr(account=bob, src="+31205550201", dst="+31699991111", started_at=now() - timedelta(days=1))
        page = verified_client(client, support).get(f"/support/customers/{bob.pk}/").content.decode()
        assert "bob@example.org" in page and "+31205550201" in page and "Acme BV" in page
        assert "+31699991111" not in page and "3169999111" not in page
        assert AuditEntry.objects.filter(action="support.customer_get", purpose="customer_support").exists()

    def test_the_desk_is_in_the_support_menu_and_on_its_home(self, client, support):
        body = verified_client(client, support).get("/").content.decode()
        assert body.count('href="/support/"') == 2

    def test_the_register_names_the_purpose(self):
        names = {a["purpose"]: a for a in processing_register()["activities"]}
        assert "customer_support" in names and "support staff" in names["customer_support"]["recipients"]


class SupportUnlockTests:
    def test_it_lifts_a_lockout_audited(self, client, support, alice):
        _locked_out(alice)
        c = verified_client(client, support)
        assert "locked out" in c.get(f"/support/customers/{alice.pk}/").content.decode()
        response = c.post(f"/support/customers/{alice.pk}/unlock/", follow=True)
        assert "Sign-in unlocked" in response.content.decode()
        assert not AccessAttempt.objects.filter(username="alice").exists()
        entry = AuditEntry.objects.get(action="support.unlock", outcome="ok", purpose="customer_support")
        assert entry.extra == {"records": 1} and "alice" not in entry.target_id

    def test_the_customer_can_sign_in_again(self, client, support, alice):
        from tests.factories import PASSWORD

        for _ in range(5):
            client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code in (403, 429)
        verified_client(client, support).post(f"/support/customers/{alice.pk}/unlock/")
        client.logout()
        assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302


class SupportTwoFactorResetTests:
    def _enrolled(self, user):
        TOTPDevice.objects.create(user=user, name="default", confirmed=True)
        StaticDevice.objects.create(user=user, name="backup", confirmed=True)

    def test_it_resets_with_a_reason_code_logged(self, client, support, alice):
        self._enrolled(alice)
        c = verified_client(client, support)
        missing = c.post(f"/support/customers/{alice.pk}/two-factor-reset/", {"reason": ""})
        assert missing.status_code == 400 and 'id="id_reason_error"' in missing.content.decode()
        assert TOTPDevice.objects.filter(user=alice).exists()
        response = c.post(f"/support/customers/{alice.pk}/two-factor-reset/",
                          {"reason": "lost_device", "ticket": "TCK-2026-0042", "confirm": "yes"})
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(user=alice).exists() and not StaticDevice.objects.filter(user=alice).exists()
        entry = AuditEntry.objects.get(action="support.two_factor_reset", outcome="ok", purpose="customer_support")
        assert entry.extra == {"reason": "lost_device", "ticket": "TCK-2026-0042"}

    def test_the_ticket_must_hold_no_personal_data(self, support, alice):
        self._enrolled(alice)
        for ticket in ("call back on 020 555 0101", "alice@example.org"):
            with pytest.raises(ApplicationError, match="must not contain"):
                support_two_factor_reset(actor=support, user=alice, reason="new_device", ticket=ticket)
        assert TICKET_PERSONAL.startswith("The ticket reference") and TOTPDevice.objects.filter(user=alice).exists()

    def test_a_staff_members_second_factor_is_out_of_reach(self, support, legal1):
        with pytest.raises(ApplicationError, match="customer accounts"):
            support_two_factor_reset(actor=support, user=legal1, reason="lost_device")
        assert TOTPDevice.objects.filter(user=legal1).exists()


class SupportRightsRequestTests:
    def test_it_opens_a_request_the_customer_then_sees(self, client, support, alice):
        c = verified_client(client, support)
        empty = c.post(f"/support/customers/{alice.pk}/requests/", {"kind": "rectification", "details": ""})
        assert empty.status_code == 400 and "Say what is wrong" in empty.content.decode()
        response = c.post(f"/support/customers/{alice.pk}/requests/",
                          {"kind": "rectification", "details": "Label of my second number is wrong"})
        assert response.status_code == 302
        req = DataSubjectRequest.objects.get(user=alice)
        assert req.kind == "rectification" and req.status == "received"
        entry = AuditEntry.objects.get(action="dsr.create")
        assert entry.extra == {"kind": "rectification", "on_behalf": True}
        client.logout()
        assert "Correct my data" in verified_client(client, alice).get("/privacy-requests/").content.decode()

    def test_erasure_is_not_opened_for_the_customer(self, client, support, alice):
        response = verified_client(client, support).post(f"/support/customers/{alice.pk}/requests/", {"kind": "erasure"})
        assert response.status_code == 400 and not DataSubjectRequest.objects.exists()
        from accounts.support.services import support_request_open

        with pytest.raises(ApplicationError, match="only the customer can ask"):
            support_request_open(actor=support, user=alice, kind="erasure")
        assert alice.is_active


class SupportDutchTests:
    def test_the_pages_are_in_dutch(self, client, support, alice):
        c = verified_client(client, support)
        page = c.get("/support/", {"q": "alice@example.org"}, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "Klantenservice" in page and "Gevonden klanten" in page
        card = c.get(f"/support/customers/{alice.pk}/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "Tweede factor herstellen" in card and "Inloggen ontgrendelen" in card
