"""A restricted account (GDPR art. 18) can still be closed from the user admin (the contract ends whatever the
restriction): from the filter "restricted (art. 18)", which names the accounts by their id only, on the
confirmation page and in a refusal too. The restriction stays in force and in the record.

bob is restricted (a restriction request the DPO completed)."""
from __future__ import annotations

import html

import pytest

from accounts.dsr.models import Restriction
from accounts.models import User
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

from .test_admin_restricted_users import USERS, restricted  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db
LISTING = f"{USERS}?restricted=yes"


def _close(client, user, **more):
    return client.post(LISTING, {"action": "close_accounts", "_selected_action": [user.pk], "reason": "non_payment",
                                 **more}, follow=True)


class RestrictedAccountCloseTests:
    def test_an_administrator_closes_a_restricted_account_and_the_restriction_stays(self, client, admin_user,
                                                                                      restricted):
        verified_client(client, admin_user)
        listing = html.unescape(client.get(LISTING).content.decode())
        assert 'value="close_accounts"' in listing
        asked = html.unescape(_close(client, restricted).content.decode())
        assert "Close 1 account(s)?" in asked and f"#{restricted.pk}" in asked
        assert "bob" not in asked  # named by the account's id only, as the listing names it
        assert User.objects.get(pk=restricted.pk).closed_at is None  # asked first
        done = html.unescape(_close(client, restricted, post="yes").content.decode())
        assert "1 account(s) closed." in done
        closed = User.objects.get(pk=restricted.pk)
        assert closed.closed_at is not None and not closed.is_active
        assert closed.restricted_at == restricted.restricted_at  # the restriction stays, as recorded
        assert Restriction.objects.get(user=restricted).lifted_at is None
        assert AuditEntry.objects.get(action="account.close").extra["reason"] == "non_payment"

    def test_a_refusal_names_the_restricted_account_by_its_id(self, client, admin_user, restricted):
        verified_client(client, admin_user)
        _close(client, restricted, post="yes")
        again = html.unescape(_close(client, restricted, post="yes").content.decode())
        assert f"#{restricted.pk}: This account is already closed." in again and "bob" not in again


def test_the_staff_api_closes_a_restricted_account_too(client, billing_staff, restricted):
    """The same through the staff API (billing staff closing for non-payment): not a 404 because the account is
    restricted."""
    verified_client(client, billing_staff)
    response = client.post(f"/api/v1/staff/accounts/{restricted.pk}/close/", {"reason": "non_payment"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["id"] == restricted.pk
    assert "bob" not in response.content.decode()
    closed = User.objects.get(pk=restricted.pk)
    assert closed.closed_at is not None and closed.restricted_at == restricted.restricted_at
    assert Restriction.objects.get(user=restricted).lifted_at is None
