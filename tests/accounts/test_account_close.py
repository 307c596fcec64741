"""Closing an account (the contract ended): no way in any more, the numbers' periods end, the data stays
until retention anonymises it (tests/retention/test_closed_accounts.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.models import AccountCloseReason, PhoneNumber, User, UserSession
from accounts.services.closing import (
    ACCOUNT_ALREADY_CLOSED,
    ACCOUNT_CLOSE_NOT_ALLOWED,
    ACCOUNT_CLOSE_SELF,
    account_close,
)
from accounts.services.numbers import phone_number_assign
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import PASSWORD, verified_client
from voipxs.privacy.audit import target_ref
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

CONTRACT_ENDED = AccountCloseReason.CONTRACT_ENDED


def _audit_text(action: str) -> str:
    return " ".join(f"{e.actor} {e.target_id} {e.extra}" for e in AuditEntry.objects.filter(action=action))


@pytest.mark.django_db
class AccountCloseTests:
    def test_it_locks_the_customer_out_of_the_portal_and_the_api(self, client, alice, billing_staff):
        from knox.models import AuthToken

        _, token = AuthToken.objects.create(user=alice)
        verified_client(client, alice)
        assert client.get("/calls/").status_code == 200

        account_close(user=alice, actor=billing_staff, reason=CONTRACT_ENDED)

        # the open session is gone: the next page asks for a login
        assert client.get("/calls/").status_code == 302
        assert UserSession.objects.count() == 0
        # a real sign-in through the login page with the right password fails
        client.logout()
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        assert "_auth_user_id" not in client.session
        assert response.status_code in (200, 429) and client.get("/calls/").status_code == 302
        # so does the API, with a new sign-in or the old token
        assert client.post("/api/v1/auth/login/", {"username": "alice", "password": PASSWORD}).status_code == 400
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401
        alice = User.objects.get(pk=alice.pk)
        assert not alice.is_active and alice.closed_at is not None and alice.anonymised_at is None
        # closed, not anonymised: the user data stays until the final invoice is settled (+30 days)
        assert alice.username == "alice" and alice.email == "alice@example.org"

    def test_it_ends_the_numbers_periods_at_the_closure(self, alice, bob, billing_staff):
        later = phone_number_assign(user=alice, number="+31205550111", valid_from=now() + timedelta(days=10))

        alice = account_close(user=alice, actor=billing_staff, reason=CONTRACT_ENDED)

        numbers = list(PhoneNumber.objects.filter(user=alice))
        assert [p.valid_to for p in numbers] == [alice.closed_at]  # the held number ends at the closure
        assert not PhoneNumber.objects.filter(pk=later.pk).exists()  # never started: dropped
        # the number is free from the closure on: someone else may hold it
        phone_number_assign(user=bob, number="+31205550101", valid_from=alice.closed_at)

    def test_it_records_who_closed_which_account_and_why_without_personal_data(self, alice, admin_user):
        account_close(user=alice, actor=admin_user, reason=AccountCloseReason.NON_PAYMENT)

        entry = AuditEntry.objects.get(action="account.close")
        assert entry.target_id == target_ref("user", alice.pk) and entry.extra["reason"] == "non_payment"
        text = _audit_text("account.close")
        assert "alice" not in text and "+3120555" not in text

    def test_it_refuses_to_close_a_closed_account_again(self, alice, billing_staff):
        account_close(user=alice, actor=billing_staff, reason=CONTRACT_ENDED)
        with pytest.raises(ApplicationError) as exc:
            account_close(user=alice, actor=billing_staff, reason=CONTRACT_ENDED)
        assert exc.value.message == ACCOUNT_ALREADY_CLOSED
        assert AuditEntry.objects.filter(action="account.close").count() == 1

    @pytest.mark.parametrize("persona", ["support", "dpo", "legal1", "bob"])
    def test_it_refuses_roles_that_do_not_close_accounts(self, request, persona, alice):
        actor = request.getfixturevalue(persona)
        with pytest.raises(ApplicationError) as exc:
            account_close(user=alice, actor=actor, reason=CONTRACT_ENDED)
        assert exc.value.message == ACCOUNT_CLOSE_NOT_ALLOWED
        assert User.objects.get(pk=alice.pk).is_active

    def test_it_refuses_to_close_the_actors_own_account(self, admin_user):
        with pytest.raises(ApplicationError) as exc:
            account_close(user=admin_user, actor=admin_user, reason=CONTRACT_ENDED)
        assert exc.value.message == ACCOUNT_CLOSE_SELF
        assert User.objects.get(pk=admin_user.pk).closed_at is None


@pytest.mark.django_db
class AccountCloseAdminTests:
    def test_an_administrator_closes_accounts_from_the_user_list(self, client, admin_user, alice, bob):
        verified_client(client, admin_user)
        action = {"action": "close_accounts", "_selected_action": [alice.pk], "reason": "non_payment"}
        asked = client.post("/admin/accounts/user/", action).content.decode()
        assert "Close 1 account(s)?" in asked and "alice" in asked and "contract ended for non-payment" in asked
        assert User.objects.get(pk=alice.pk).closed_at is None  # asked first, nothing done
        response = client.post("/admin/accounts/user/", {**action, "post": "yes"}, follow=True)
        assert response.status_code == 200
        assert "1 account(s) closed." in response.content.decode()
        assert User.objects.get(pk=alice.pk).closed_at is not None
        assert User.objects.get(pk=bob.pk).closed_at is None
        assert AuditEntry.objects.get(action="account.close").extra["reason"] == "non_payment"

    def test_the_admin_says_when_an_account_was_already_closed(self, client, admin_user, alice):
        account_close(user=alice, actor=admin_user, reason=CONTRACT_ENDED)
        verified_client(client, admin_user)
        response = client.post("/admin/accounts/user/", {"action": "close_accounts", "_selected_action": [alice.pk],
                                                          "reason": "contract_ended", "post": "yes"}, follow=True)
        assert ACCOUNT_ALREADY_CLOSED in response.content.decode()

    def test_staff_without_the_user_list_cannot_use_the_action(self, client, support, alice):
        verified_client(client, support)
        response = client.post("/admin/accounts/user/", {"action": "close_accounts", "_selected_action": [alice.pk],
                                                          "reason": "contract_ended"})
        assert response.status_code == 403
        assert User.objects.get(pk=alice.pk).closed_at is None


@pytest.mark.django_db
class AccountCloseApiTests:
    URL = "/api/v1/staff/accounts/{}/close/"

    def test_billing_staff_close_an_account(self, client, billing_staff, alice):
        verified_client(client, billing_staff)
        response = client.post(self.URL.format(alice.pk), {"reason": "contract_ended"}, content_type="application/json")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == alice.pk and body["is_active"] is False and body["closed_at"]
        assert "alice" not in response.content.decode()

    def test_a_second_close_is_a_400_that_says_why(self, client, billing_staff, alice):
        verified_client(client, billing_staff)
        client.post(self.URL.format(alice.pk), {"reason": "contract_ended"}, content_type="application/json")
        response = client.post(self.URL.format(alice.pk), {"reason": "contract_ended"}, content_type="application/json")
        assert response.status_code == 400 and response.json()["detail"] == ACCOUNT_ALREADY_CLOSED

    def test_it_names_a_missing_or_unknown_reason(self, client, billing_staff, alice):
        verified_client(client, billing_staff)
        response = client.post(self.URL.format(alice.pk), {"reason": "bored"}, content_type="application/json")
        assert response.status_code == 400 and "reason" in response.json()
        assert User.objects.get(pk=alice.pk).is_active

    @pytest.mark.parametrize("persona", ["bob", "support", "dpo"])
    def test_others_get_a_403(self, request, client, persona, alice):
        verified_client(client, request.getfixturevalue(persona))
        response = client.post(self.URL.format(alice.pk), {"reason": "contract_ended"}, content_type="application/json")
        assert response.status_code == 403
        assert User.objects.get(pk=alice.pk).is_active

    def test_an_unknown_account_is_a_404(self, client, admin_user):
        verified_client(client, admin_user)
        response = client.post(self.URL.format(999999), {"reason": "contract_ended"}, content_type="application/json")
        assert response.status_code == 404
