"""A Contractor's contract ends (contractor_close): every account of its Users is closed at once, no User
can be added to it any more, and once the purge has anonymised its last User its name and invoice address
go too, while its invoices keep the copy they were made out to."""
from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AccountCloseReason, BillingAddress, Contractor, User, UserSession
from accounts.services.billing_address import billing_address_set
from accounts.services.closing import (
    ACCOUNT_CLOSE_NOT_ALLOWED,
    CONTRACTOR_ALREADY_CLOSED,
    CONTRACTOR_USERS_LEFT,
    account_close,
    contractor_anonymise,
    contractor_close,
)
from accounts.services.users import (CONTRACTOR_ANONYMISED, CONTRACTOR_CLOSED, contractor_rename, user_create,
                                     user_update_admin)
from retention.models import Category
from retention.purge.run import purge_expired
from tests.factories import verified_client
from tests.retention.helpers import at, make_invoice
from traffic.models import Invoice
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.audit import target_ref

pytestmark = pytest.mark.django_db

ENDED = AccountCloseReason.CONTRACT_ENDED
ACME_ADDRESS = {"name": "Acme B.V.", "street": "Keizersgracht", "house_number": "1", "postcode": "1015 CJ",
                "town": "Amsterdam", "country": "NL"}


def _closed(*users) -> list[bool]:
    return [User.objects.get(pk=u.pk).closed_at is not None for u in users]


class ContractorCloseTests:
    def test_it_closes_every_account_of_its_users_and_no_other(self, acme, bob, carol, acme_admin, alice, billing_staff):
        counts = contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)
        assert counts == {"reason": "contract_ended", "users_closed": 3}
        assert _closed(bob, carol, acme_admin) == [True, True, True] and _closed(alice) == [False]
        assert not User.objects.get(pk=bob.pk).is_active
        assert Contractor.objects.get(pk=acme.pk).closed_at is not None
        entry = AuditEntry.objects.get(action="contractor.close")
        assert entry.extra == counts and "Acme" not in str(entry.extra)
        assert AuditEntry.objects.filter(action="account.close").count() == 3  # one per account, as alone

    def test_its_users_are_signed_out_everywhere_without_reading_any_session(self, acme, bob, carol, alice,
                                                                              billing_staff):
        for user in (bob, bob, carol, alice):  # bob on two devices
            Client().force_login(user)
        with CaptureQueriesContext(connection) as queries:
            contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)
        owners = sorted(s.get_decoded()["_auth_user_id"] for s in UserSession.objects.all())
        assert owners == [str(alice.pk)]  # a customer of another contractor stays signed in
        ended = {e.target_id: e.extra["sessions"] for e in AuditEntry.objects.filter(action="account.close")}
        assert ended == {target_ref("user", bob.pk): 2, target_ref("user", carol.pk): 1}
        # Found by the user id each session row carries: no session is read, let alone decoded.
        assert not [q for q in queries if "session_data" in q["sql"]]

    def test_an_account_closed_before_is_left_as_it_was(self, acme, bob, carol, billing_staff):
        account_close(user=bob, actor=billing_staff, reason=AccountCloseReason.NON_PAYMENT)
        assert contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)["users_closed"] == 1
        assert AuditEntry.objects.filter(action="account.close", extra__reason="non_payment").count() == 1

    def test_it_refuses_a_second_time_and_roles_that_do_not_close_accounts(self, acme, bob, billing_staff, support):
        with pytest.raises(ApplicationError) as refused:
            contractor_close(contractor=acme, actor=support, reason=ENDED)
        assert refused.value.message == ACCOUNT_CLOSE_NOT_ALLOWED and _closed(bob) == [False]
        contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)
        with pytest.raises(ApplicationError) as again:
            contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)
        assert again.value.message == CONTRACTOR_ALREADY_CLOSED

    def test_no_user_can_be_added_to_a_closed_contractor(self, acme, bob, mallory, billing_staff, admin_user):
        contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)
        with pytest.raises(ApplicationError) as created:
            user_create(username="dave", password="a long passphrase 42", contractor=acme, actor=admin_user)
        assert created.value.extra == {"field": "contractor"} and created.value.message == CONTRACTOR_CLOSED
        with pytest.raises(ApplicationError):
            user_update_admin(user=mallory, fields={"contractor": acme}, actor=admin_user)
        # its own closed users can still be saved as they are (a label, say)
        user_update_admin(user=User.objects.get(pk=bob.pk), fields={"contractor": acme}, actor=admin_user)
        assert not User.objects.filter(username="dave").exists()


class ContractorAnonymiseTests:
    def test_the_purge_removes_its_name_and_address_after_its_last_user_and_invoices_keep_their_copy(
            self, acme, bob, acme_admin, billing_staff):
        billing_address_set(actor=acme_admin, user=acme_admin, **ACME_ADDRESS)
        invoice = make_invoice(account=bob, period=date(2026, 1, 1), status="paid")
        Invoice.objects.filter(pk=invoice.pk).update(customer_name="Acme B.V.", customer_address="Keizersgracht 1")
        contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)
        User.objects.filter(contractor=acme).update(closed_at=at(2026, 2, 10))

        result = purge_expired(now=at(2027, 6, 1))

        receipt = next(r for r in result["receipts"] if r["category"] == Category.CLOSED_ACCOUNT)
        assert receipt["anonymised"] == 2 and receipt["details"]["contractors_anonymised"] == 1
        acme = Contractor.objects.get(pk=acme.pk)
        assert acme.anonymised_at is not None and acme.name == f"closed-contractor-{acme.pk}"
        assert not BillingAddress.objects.filter(contractor=acme).exists()
        assert Invoice.objects.get(pk=invoice.pk).customer_name == "Acme B.V."
        assert AuditEntry.objects.get(action="contractor.anonymise").extra == {"billing_address_deleted": 1}
        with pytest.raises(ApplicationError) as renamed:  # its name went for good
            contractor_rename(contractor=acme, name="Acme BV", actor=billing_staff)
        assert renamed.value.message == CONTRACTOR_ANONYMISED

    def test_it_waits_while_one_of_its_users_is_kept(self, acme, bob, acme_admin, billing_staff):
        billing_address_set(actor=acme_admin, user=acme_admin, **ACME_ADDRESS)
        make_invoice(account=bob, period=date(2026, 1, 1), status="open")  # bob's final invoice is not paid
        contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)
        User.objects.filter(contractor=acme).update(closed_at=at(2026, 2, 10))

        purge_expired(now=at(2027, 6, 1))

        assert Contractor.objects.get(pk=acme.pk).name == "Acme BV" and BillingAddress.objects.filter(contractor=acme)
        with pytest.raises(ApplicationError) as refused:
            contractor_anonymise(contractor=acme, actor=billing_staff)
        assert refused.value.message == CONTRACTOR_USERS_LEFT

    def test_an_open_contractor_is_never_anonymised(self, acme, bob, billing_staff):
        account_close(user=bob, actor=billing_staff, reason=ENDED)
        User.objects.filter(pk=bob.pk).update(closed_at=at(2026, 2, 10))
        purge_expired(now=at(2027, 6, 1))
        assert User.objects.get(pk=bob.pk).anonymised_at is not None  # its only user went
        assert Contractor.objects.get(pk=acme.pk).anonymised_at is None  # the contract runs on


class ContractorCloseAdminTests:
    def test_an_administrator_ends_a_contract_from_the_list_after_a_confirmation(self, client, admin_user, acme, bob,
                                                                                 carol, mallory):
        verified_client(client, admin_user)
        action = {"action": "close_contractors", "_selected_action": [acme.pk], "reason": "customer_request"}
        asked = client.post("/admin/accounts/contractor/", action).content.decode()
        assert "End the contract of 1 contractor(s)?" in asked and "Acme BV" in asked
        assert "All 2 open account(s) of their users are closed now" in asked
        assert "customer asked to end the contract" in asked
        assert _closed(bob, carol) == [False, False]  # asked first, nothing done
        done = client.post("/admin/accounts/contractor/", {**action, "post": "yes"}, follow=True).content.decode()
        assert "1 contractor(s) closed." in done
        assert _closed(bob, carol, mallory) == [True, True, False]
        assert AuditEntry.objects.get(action="contractor.close").extra["reason"] == "customer_request"
        again = client.post("/admin/accounts/contractor/", {**action, "post": "yes"}, follow=True).content.decode()
        assert CONTRACTOR_ALREADY_CLOSED in again

    def test_the_user_forms_offer_a_closed_contractor_only_to_its_own_users(self, client, admin_user, acme, bob,
                                                                           mallory, billing_staff):
        contractor_close(contractor=acme, actor=billing_staff, reason=ENDED)
        verified_client(client, admin_user)
        assert "Acme BV" not in client.get("/admin/accounts/user/add/").content.decode()
        assert "Acme BV" not in client.get(f"/admin/accounts/user/{mallory.pk}/change/").content.decode()
        assert "Acme BV" in client.get(f"/admin/accounts/user/{bob.pk}/change/").content.decode()


class ContractorCloseApiTests:
    URL = "/api/v1/staff/contractors/{}/close/"

    def test_billing_staff_end_a_contract(self, client, billing_staff, acme, bob, carol):
        verified_client(client, billing_staff)
        response = client.post(self.URL.format(acme.pk), {"reason": "contract_ended"}, content_type="application/json")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == acme.pk and body["users_closed"] == 2 and body["closed_at"]
        assert "Acme" not in response.content.decode() and _closed(bob, carol) == [True, True]
        again = client.post(self.URL.format(acme.pk), {"reason": "contract_ended"}, content_type="application/json")
        assert again.status_code == 400 and again.json()["detail"] == CONTRACTOR_ALREADY_CLOSED

    def test_a_bad_reason_is_a_400_naming_it_and_closes_nothing(self, client, billing_staff, acme, bob):
        verified_client(client, billing_staff)
        response = client.post(self.URL.format(acme.pk), {"reason": "bored"}, content_type="application/json")
        assert response.status_code == 400 and "reason" in response.json() and _closed(bob) == [False]

    @pytest.mark.parametrize("persona", ["acme_admin", "support", "dpo"])
    def test_others_get_a_403(self, request, client, persona, acme, bob):
        verified_client(client, request.getfixturevalue(persona))
        response = client.post(self.URL.format(acme.pk), {"reason": "contract_ended"}, content_type="application/json")
        assert response.status_code == 403 and _closed(bob) == [False]

    def test_an_unknown_contractor_is_a_404(self, client, admin_user):
        verified_client(client, admin_user)
        response = client.post(self.URL.format(999999), {"reason": "contract_ended"}, content_type="application/json")
        assert response.status_code == 404
