"""LEGAL.md section 5, row 10: a contractor admin cannot reach another tenant's calls or users by guessing their
ids. Every page and API that takes the id of a call, of something made of calls (an invoice and its itemised bill,
a call export, a dispute, a note on a call) or of a user answers 404 or 403 for another tenant's object, and a
filter by such an id never widens the contractor's own list. The other tenants are alice (a customer without a
contractor) and mallory and trent (Users of Other BV), as in test_contractor.py."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.dsr.services import dsr_request_create
from accounts.selectors import access_user, contractor_user_names
from tests.factories import verified_client
from traffic.annotations.models import CdrAnnotation
from traffic.models import CallExport, Cdr, Invoice
from traffic.selectors.calls import cdr_list
from traffic.services.call_exports import call_export_request
from traffic.services.invoices import invoice_run
from voipxs.privacy.purposes import Purpose

from .test_contractor import OTHER_CALLS, OWN_CALLS, T0, masked, traffic  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

REFUSED = (403, 404)


@pytest.fixture
def others(traffic, alice, bob, mallory, django_capture_on_commit_callbacks):  # noqa: F811
    """The other tenants' objects: their calls, invoices (March, T0's month), a call export and a rectification
    request (whose calls the DPO may annotate)."""
    invoice_run(month=date(T0.year, T0.month, 1))
    theirs = Cdr.objects.exclude(contractor_id=bob.contractor_id)  # alice's too (no contractor)
    with django_capture_on_commit_callbacks(execute=False):  # the export stays queued: its id is what is guessed
        export = call_export_request(owner=mallory)
    return {
        "cdrs": list(theirs.order_by("id")),
        "invoices": list(Invoice.objects.filter(account__in=[alice, mallory]).order_by("id")),
        "export": export,
        "dsr": dsr_request_create(user=mallory, kind="rectification", details="a call is wrong"),
        "users": [alice, mallory, theirs.exclude(account__in=[alice, mallory]).get().account],
    }


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def _shows_no_other_call(body: str) -> bool:
    return not any(masked(number) in body or number in body or zone in body for number, zone in OTHER_CALLS.items())


class ContractorIdGuessingTests:
    def test_their_invoices_and_itemised_bills_are_404(self, client, acme_admin, others):
        page = verified_client(client, acme_admin)
        assert len(others["invoices"]) == 2
        for invoice in others["invoices"]:
            for path in (f"/calls/invoices/{invoice.pk}/", f"/calls/invoices/{invoice.pk}/?full=1",
                         f"/calls/invoices/{invoice.pk}/pdf/", f"/api/v1/me/invoices/{invoice.pk}/",
                         f"/api/v1/me/invoices/{invoice.pk}/pdf/"):
                response = page.get(path)
                assert response.status_code == 404, path
                assert _shows_no_other_call(_body(response)), path

    def test_an_invoice_filter_with_their_invoice_lists_nothing_of_theirs(self, client, acme_admin, others):
        api = verified_client(client, acme_admin)
        unknown = api.get("/api/v1/contractor/calls/", {"invoice": 10**9})
        for invoice in others["invoices"]:
            response = api.get("/api/v1/contractor/calls/", {"invoice": invoice.pk})
            # The same answer as for an invoice that does not exist: nothing to learn from the guess.
            assert (response.status_code, response.json()["results"]) == (unknown.status_code, [])
            assert _shows_no_other_call(response.content.decode())
            for path in (f"/calls/export.csv?invoice={invoice.pk}", f"/api/v1/me/calls/?invoice={invoice.pk}",
                         f"/api/v1/me/calls.csv?invoice={invoice.pk}"):
                assert _shows_no_other_call(_body(api.get(path))), path

    def test_a_user_id_in_the_query_does_not_widen_the_list(self, client, acme_admin, others):
        api = verified_client(client, acme_admin)
        for user in others["users"]:
            for key in ("user", "account", "account_id", "contractor"):
                value = user.contractor_id if key == "contractor" and user.contractor_id else user.pk
                results = api.get("/api/v1/contractor/calls/", {key: value}).json()["results"]
                assert sorted(r["other_number"] for r in results) == sorted(masked(n) for n in OWN_CALLS)
                assert _shows_no_other_call(api.get("/calls/contractor/", {key: value}).content.decode())

    def test_their_call_export_is_404(self, client, acme_admin, others):
        page = verified_client(client, acme_admin)
        pk = others["export"].pk
        assert CallExport.objects.filter(pk=pk).exists()
        for path in (f"/calls/exports/{pk}/", f"/calls/exports/{pk}/download/", f"/api/v1/me/call-exports/{pk}/",
                     f"/api/v1/me/call-exports/{pk}/download/"):
            assert page.get(path).status_code == 404, path

    def test_their_invoice_cannot_be_disputed(self, client, acme_admin, others):
        page = verified_client(client, acme_admin)
        for invoice in others["invoices"]:
            before = invoice.status
            assert page.post(f"/calls/staff/invoices/{invoice.pk}/dispute/", {"confirm": "yes"}).status_code in REFUSED
            assert page.post(f"/api/v1/staff/invoices/{invoice.pk}/dispute/").status_code in REFUSED
            assert Invoice.objects.get(pk=invoice.pk).status == before

    def test_no_note_can_be_put_on_their_call(self, client, acme_admin, others):
        page = verified_client(client, acme_admin)
        dsr = others["dsr"]
        for cdr in others["cdrs"]:
            response = page.post(f"/calls/staff/privacy-requests/{dsr.pk}/call-notes/",
                                 {"call": f"{cdr.pk}@{cdr.started_at.isoformat()}", "text": "guess", "confirm": "yes"})
            assert response.status_code in REFUSED
        assert page.get(f"/privacy-requests/dpo/{dsr.pk}/").status_code in REFUSED
        assert not CdrAnnotation.objects.exists()

    def test_their_users_are_not_found_by_id(self, client, acme_admin, others):
        page = verified_client(client, acme_admin)
        for user in others["users"]:
            for path in (f"/support/customers/{user.pk}/", f"/admin/accounts/user/{user.pk}/change/"):
                response = page.get(path)
                assert response.status_code in (*REFUSED, 302), path  # 302: the admin sends to its own login
                assert user.username not in _body(response), path
            assert page.post(f"/api/v1/staff/accounts/{user.pk}/close/").status_code in REFUSED
            assert page.post(f"/support/customers/{user.pk}/unlock/").status_code in REFUSED

    def test_the_selectors_refuse_their_users_and_calls(self, acme_admin, bob, others):
        purpose = Purpose.CONTRACTOR_INFORMATION
        for user in others["users"]:
            with pytest.raises(Http404):
                access_user(actor=acme_admin, purpose=purpose, user_id=user.pk)
            assert cdr_list(actor=acme_admin, purpose=purpose, account=user).rows == []
        with pytest.raises(PermissionDenied):
            cdr_list(actor=acme_admin, purpose=purpose, contractor=others["users"][1].contractor_id)
        ids = [u.pk for u in others["users"]] + [bob.pk]
        assert contractor_user_names(actor=acme_admin, user_ids=ids) == {bob.pk: "bob"}
