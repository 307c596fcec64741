"""A customer cannot reach another customer's invoice, privacy request, export file, disclosure
(request, notice) or legal hold by guessing its id, on any page or endpoint.

tests/accounts/test_access_isolation.py walks every URL with bob's user and number ids; this walks
them again with the ids of bob's *objects* (invoice, data-subject request and its ready export, a
disclosure request about his number with its legal hold and notice), which that test never creates."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.models import ExportFile
from accounts.dsr.services import dsr_request_create
from disclosures.models import AuthorityKind, LegalBasis
from disclosures.services.authorities import authority_create, authority_verify
from disclosures.services.intake import disclosure_request_receive
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.accounts.test_access_isolation import BOB_SECRETS, walk_pages
from tests.factories import PASSWORD, make_cdr, make_user
from traffic.services import invoices as invoicing

BOB_NUMBER = "+31205550201"


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def bobs_objects(bob, legal1, capture) -> dict[str, int]:
    last_month = (now().date().replace(day=1) - timedelta(days=1)).replace(day=15)
    make_cdr(account=bob, src=BOB_NUMBER, dst="+31699990001",
             started_at=now().replace(year=last_month.year, month=last_month.month, day=15))
    invoice = invoicing.invoice_run(month=date(last_month.year, last_month.month, 1))[0]
    with capture(execute=True):
        req = dsr_request_create(user=bob, kind="portability", details="", password=PASSWORD)
    export = ExportFile.objects.get(request=req)
    assert export.status == ExportFile.Status.READY
    authority = authority_create(actor=legal1, name="Politie Test", kind=AuthorityKind.POLICE,
                                 contact_phone="020 555 9999", contact_email="desk@politie.example")
    # Another officer than the registrar verifies the body's channels.
    authority_verify(actor=make_user("iso-legal-verifier", roles=["legal_officer"]), authority=authority, note="checked")
    disclosure = disclosure_request_receive(
        actor=legal1, authority=authority, reference="REF-ISO", legal_basis=LegalBasis.SV_126N,
        categories=["traffic_data"], window_start=now() - timedelta(days=90), window_end=now(),
        deadline=now() + timedelta(days=3), numbers=[BOB_NUMBER], account_ids=[])
    return {"invoice": invoice.pk, "dsr": req.pk, "export": export.pk, "disclosure": disclosure.pk,
            "hold": disclosure.hold_id}


@pytest.mark.django_db
class ObjectIsolationTests:
    def test_it_leaks_none_of_bobs_objects_to_alice_through_any_url(self, client, alice, bob, legal1,
                                                                     django_capture_on_commit_callbacks):
        ids = sorted(set(bobs_objects(bob, legal1, django_capture_on_commit_callbacks).values()))
        client.force_login(alice)
        checked = 0
        for path, text, body in walk_pages(client, ids):
            # An export is a zip (compressed): no plain-text secret to find, so no file may come back at all.
            assert not body.startswith(b"PK\x03\x04"), f"{path} hands alice a file"
            for secret in (*BOB_SECRETS, "REF-ISO"):
                assert secret not in text, f"{path} shows bob's data"
            checked += 1
        assert checked > 40

    def test_it_answers_404_for_bobs_invoice_and_export_by_id(self, client, alice, bob, legal1,
                                                              django_capture_on_commit_callbacks):
        objects = bobs_objects(bob, legal1, django_capture_on_commit_callbacks)
        client.force_login(alice)
        for path in (f"/calls/invoices/{objects['invoice']}/", f"/api/v1/me/invoices/{objects['invoice']}/",
                     f"/privacy-requests/exports/{objects['export']}/download/",
                     f"/api/v1/me/exports/{objects['export']}/"):
            assert client.get(path).status_code == 404, path
        for path in (f"/disclosures/requests/{objects['disclosure']}/",
                     f"/disclosures/requests/{objects['disclosure']}/download/",
                     f"/api/v1/staff/disclosures/requests/{objects['disclosure']}/",
                     f"/privacy-requests/dpo/{objects['dsr']}/"):
            assert client.get(path).status_code in (403, 404), path
        assert client.post(f"/retention/holds/{objects['hold']}/release/").status_code == 403
