"""A customer's form posts to an address of its own (a privacy request, a click-to-call token, the itemised-bill
choice, ...). That address opened in the browser (signing in again after the session ran out mid-form sends
the customer to it; so does Enter in the address bar after a refused form, or a bookmark) used to answer an
empty page (405 with no body): now it leads back to the page that holds the form, and the form still acts
only on a POST."""
from __future__ import annotations

import pytest

from accounts.dsr.models import DataSubjectRequest
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

FORM_ADDRESSES = [
    ("/privacy-requests/new/", "/privacy-requests/", "Make a request"),
    ("/accounts/numbers/masking/", "/accounts/numbers/", "Your number on other people"),
    ("/accounts/numbers/itemisation/", "/accounts/numbers/", "Itemised bills"),
    ("/accounts/security/call-setup-tokens/", "/accounts/security/", "Click-to-call tokens"),
    ("/accounts/security/call-setup-tokens/1/revoke/", "/accounts/security/", "Click-to-call tokens"),
    ("/accounts/security/recovery-codes/", "/accounts/security/", "Two-factor sign-in"),
    ("/accounts/security/two-factor/disable/", "/accounts/security/", "Two-factor sign-in"),
]


class FormAddressOpenedTests:
    @pytest.mark.parametrize("address, page, heading", FORM_ADDRESSES)
    def test_it_leads_to_the_page_with_the_form(self, client, alice, address, page, heading):
        client.force_login(alice)
        response = client.get(address, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain and response.redirect_chain[-1][0].split("#")[0] == page
        assert heading in response.content.decode()

    def test_signing_in_again_mid_form_lands_on_the_form_not_an_empty_page(self, client, alice):
        # the session ran out while the customer wrote a request: the POST goes to the sign-in page ...
        response = client.post("/privacy-requests/new/", {"kind": "access", "details": ""})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        # ... which, once signed in, sends them on to the form's address (a GET)
        response = client.post(response["Location"], {"username": "alice", "password": PASSWORD}, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == "/privacy-requests/"
        body = response.content.decode()
        assert "Make a request" in body and "Send request" in body
        assert not DataSubjectRequest.objects.exists()  # nothing was sent by the GET

    def test_other_methods_are_still_refused(self, client, alice):
        client.force_login(alice)
        assert client.put("/privacy-requests/new/").status_code == 405

    def test_a_signed_out_visitor_is_still_sent_to_sign_in(self, client):
        response = client.get("/privacy-requests/new/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
