"""LEGAL.md section 5 row 26 (GDPR art. 18) in the user admin (read under SECURITY): restricted accounts are left out
of the user list, its search and the users' own pages; the filter "restricted (art. 18)" lists them only as
restricted (id, since when, active, staff: no login name, e-mail address or contractor, no link, no action), and that
listing is audited with the ids it shows.

bob is restricted (a restriction request the DPO completed); carol, of the same contractor, is not."""
from __future__ import annotations

import html
import re

import pytest

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_complete, dsr_request_create
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import verified_client
from voipxs.models import AuditEntry

pytestmark = pytest.mark.django_db
USERS = "/admin/accounts/user/"


@pytest.fixture
def restricted(bob, carol, dpo):
    """bob restricted through the DPO's completion of his restriction request (as in test_support_restriction)."""
    req = dsr_request_create(user=bob, kind=DataSubjectRequest.Kind.RESTRICTION, details="accuracy contested")
    dsr_request_complete(request=req, answer="Restricted while we check.", actor=dpo, ground="legal_claims")
    bob.refresh_from_db()
    assert bob.restricted_at is not None
    return bob


@pytest.fixture
def admin_client(client, admin_user):
    return verified_client(client, admin_user)


def _page(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _results(page: str) -> str:
    """The result table ("" when the page found nothing: Django then shows no table)."""
    if 'id="result_list"' not in page:
        return ""
    return page[page.index('id="result_list"'):page.index("</table>", page.index('id="result_list"'))]


class RestrictedUserAdminTests:
    def test_the_list_and_its_search_leave_the_restricted_account_out(self, admin_client, carol, restricted):
        rows = _results(_page(admin_client.get(USERS)))
        assert ">carol<" in rows and "carol@example.org" in rows
        assert ">bob<" not in rows and "bob@example.org" not in rows
        assert ">bob<" not in _results(_page(admin_client.get(USERS, {"q": "bob"})))
        assert ">carol<" in _results(_page(admin_client.get(USERS, {"q": "carol"})))

    def test_the_restricted_users_own_page_is_not_found(self, admin_client, restricted):
        for page in ("change", "history", "password", "delete"):
            response = admin_client.get(f"{USERS}{restricted.pk}/{page}/", follow=True)
            body = html.unescape(response.content.decode())
            assert "bob@example.org" not in body and "value=\"bob\"" not in body, page

    def test_the_filter_lists_restricted_accounts_only_as_restricted(self, admin_client, carol, restricted):
        page = _page(admin_client.get(USERS))
        assert "By restricted (art. 18)" in page and "restricted accounts only" in page
        listing = _page(admin_client.get(USERS, {"restricted": "yes"}))
        rows = _results(listing)
        assert f"#{restricted.pk}" in rows and "Restricted since" in rows
        for personal in ("bob", "bob@example.org", "Acme BV", "carol"):
            assert personal not in rows, personal
        assert f"{USERS}{restricted.pk}/change/" not in rows  # no link to the user's page
        # No action from this list but closing (test_admin_restricted_close.py): the contract ends whatever the
        # restriction.
        select = listing[listing.index('name="action"'):]
        offered = set(re.findall(r'<option value="([a-z_]+)"', select[:select.index("</select>")]))
        assert offered == {"close_accounts"}

    def test_the_restricted_listing_is_searched_by_account_id_only(self, admin_client, restricted):
        by_name = _results(_page(admin_client.get(USERS, {"restricted": "yes", "q": "bob"})))
        assert f"#{restricted.pk}" not in by_name
        by_id = _results(_page(admin_client.get(USERS, {"restricted": "yes", "q": str(restricted.pk)})))
        assert f"#{restricted.pk}" in by_id

    def test_the_restricted_listing_is_audited_with_the_ids_it_shows(self, admin_client, admin_user, carol,
                                                                       restricted):
        _page(admin_client.get(USERS, {"restricted": "yes"}))
        entry = AuditEntry.objects.filter(action="admin.user.restricted.list").latest("id")
        assert (entry.purpose, entry.outcome, entry.extra["ids"]) == ("security", "ok", [restricted.pk])
        assert "bob" not in str(entry.extra)

    def test_a_role_without_security_may_not_list_them(self, client, dpo, restricted):
        response = verified_client(client, dpo).get(USERS, {"restricted": "yes"})
        assert response.status_code == 403


class RestrictedPeopleInOtherAdminListsTests:
    """The user admin was not the only place: the phone-number and subscriber-details admins named a restricted
    person (login name, masked number, name and address)."""

    def test_the_phone_number_admin_leaves_the_restricted_persons_numbers_out(self, admin_client, carol, restricted):
        numbers = "/admin/accounts/phonenumber/"
        rows = _results(_page(admin_client.get(numbers)))
        assert ">carol<" in rows and ">bob<" not in rows
        assert ">bob<" not in _results(_page(admin_client.get(numbers, {"q": "bob"})))
        assert ">bob<" not in _results(_page(admin_client.get(numbers, {"q": "+31205550201"})))
        bobs = restricted.phone_numbers.get()
        assert admin_client.get(f"{numbers}{bobs.pk}/change/", follow=True).redirect_chain  # not found: to the index

    def test_the_subscriber_details_admin_leaves_the_restricted_persons_address_out(self, admin_client, carol,
                                                                                   restricted, admin_user):
        from accounts.ciot.services import subscriber_details_set

        for user, name in ((carol, "Carol Example"), (restricted, "Bob Example")):
            subscriber_details_set(user=user, actor=admin_user, name=name, street="Damrak", house_number="1",
                                   postcode="1012 LG", town="Amsterdam")
        rows = _results(_page(admin_client.get("/admin/accounts/subscriberdetails/")))
        assert ">carol<" in rows
        assert "Bob Example" not in rows and ">bob<" not in rows

    def test_reading_the_phone_number_admin_is_recorded_under_security(self, admin_client, carol):
        before = AuditEntry.objects.filter(action="admin.phone_number.read").count()
        assert ">carol<" in _results(_page(admin_client.get("/admin/accounts/phonenumber/")))
        entry = AuditEntry.objects.filter(action="admin.phone_number.read").order_by("-id").first()
        assert AuditEntry.objects.filter(action="admin.phone_number.read").count() > before
        assert entry.purpose == "security" and entry.outcome == "ok"
