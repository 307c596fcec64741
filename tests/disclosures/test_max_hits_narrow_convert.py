"""The authority's cap on records (maxHits) after intake: narrowing a request's scope may lower it (or set one where
there was none), never raise it, and the package then keeps to the lower cap; converting a preservation into its
production order takes the order's own cap, optional, checked as at intake (1 to 10 million, refused at its
field), on the page and by the API."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.timezone import now

from disclosures.models import DisclosureRequest, LegalBasis, Status
from disclosures.services.intake import MAX_HITS_LIMIT
from disclosures.services.preservation import disclosure_preservation_convert
from disclosures.services.transitions import NARROW_NOT_SHRINKING, disclosure_request_narrow
from tests.factories import make_cdr, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

from .conftest import ALICE_NUMBER, OTHER, receive, to_state
from .test_intake_document import _api, _error_of

pytestmark = pytest.mark.django_db

REFUSAL = "The cap on the number of records (maxHits) is a whole number from 1 to 10 million"
ORDER = b"%PDF-1.7 signed production order"


def _in_review(legal1, authority, cap):
    return to_state(receive(legal1, authority, max_hits=cap), "under_review", intake=legal1, approvers=[])


def _refused(call) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        call()
    return refused.value


class NarrowCapTests:
    def test_narrowing_lowers_the_cap_and_the_package_keeps_to_it(self, legal1, legal2, legal3, authority, alice):
        for hours in (30, 20, 10):
            make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(hours=hours))
        req = disclosure_request_narrow(actor=legal1, request=_in_review(legal1, authority, 25), max_hits=2)
        assert (req.max_hits, req.status) == (2, Status.UNDER_REVIEW)
        entry = AuditEntry.objects.filter(action="disclosure.narrow").latest("pk")
        assert entry.extra["max_hits"] == 2
        produced = to_state(req, "produced", intake=legal1, approvers=[legal2, legal3])
        assert produced.package.record_count == 2 and produced.package.manifest["max_hits"]["matched"] == 3

    def test_narrowing_sets_a_cap_where_there_was_none_and_keeps_it_when_none_is_given(self, legal1, authority):
        req = disclosure_request_narrow(actor=legal1, request=_in_review(legal1, authority, None), max_hits=7)
        assert DisclosureRequest.objects.get(pk=req.pk).max_hits == 7
        shorter = req.window_end - timedelta(days=1)
        kept = disclosure_request_narrow(actor=legal1, request=req, window_end=shorter)  # the cap stays
        assert DisclosureRequest.objects.get(pk=kept.pk).max_hits == 7

    def test_it_never_raises_the_cap_nor_counts_the_same_cap_as_narrowing(self, legal1, authority):
        req = _in_review(legal1, authority, 10)
        raised = _refused(lambda: disclosure_request_narrow(actor=legal1, request=req, max_hits=11))
        assert raised.extra["field"] == "max_hits" and raised.message == (
            "Narrowing can only lower the cap on the number of records (maxHits), now 10.")
        same = _refused(lambda: disclosure_request_narrow(actor=legal1, request=req, max_hits=10))
        assert same.message == NARROW_NOT_SHRINKING
        assert DisclosureRequest.objects.get(pk=req.pk).max_hits == 10 and req.narrowed_at is None

    @pytest.mark.parametrize("value", [0, -1, MAX_HITS_LIMIT + 1])
    def test_a_cap_out_of_range_is_refused_as_at_intake(self, legal1, authority, value):
        req = _in_review(legal1, authority, None)
        refused = _refused(lambda: disclosure_request_narrow(actor=legal1, request=req, max_hits=value))
        assert refused.message.startswith(REFUSAL) and refused.extra["field"] == "max_hits"
        assert DisclosureRequest.objects.get(pk=req.pk).max_hits is None

    def test_the_page_and_the_api_take_the_lower_cap(self, client, legal1, authority):
        req = _in_review(legal1, authority, 50)
        c = verified_client(client, legal1)
        page = c.get(f"/disclosures/requests/{req.pk}/").content.decode()
        assert 'id="id_narrow_max_hits"' in page and 'name="max_hits"' in page
        r = c.post(f"/disclosures/requests/{req.pk}/narrow/", {"max_hits": "40", "confirm": "yes"})
        assert r.status_code == 302 and DisclosureRequest.objects.get(pk=req.pk).max_hits == 40
        refused = c.post(f"/disclosures/requests/{req.pk}/narrow/", {"max_hits": "45", "confirm": "yes"})
        assert refused.status_code == 400 and "now 40." in refused.content.decode()
        api = _api(legal1).post(f"/api/v1/staff/disclosures/requests/{req.pk}/narrow/", {"max_hits": 30},
                                format="json")
        assert api.status_code == 200 and DisclosureRequest.objects.get(pk=req.pk).max_hits == 30
        up = _api(legal1).post(f"/api/v1/staff/disclosures/requests/{req.pk}/narrow/", {"max_hits": 31},
                               format="json")
        assert up.status_code == 400 and "max_hits" in up.content.decode()


def _preservation(legal1, legal2, legal3, authority):
    return to_state(receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None), "approved",
                    intake=legal1, approvers=[legal2, legal3])


def _form(**extra) -> dict:
    return {"legal_basis": "sv_126n", "reference": "PV-PROD-5", "categories": ["traffic_data"], "confirm": "yes",
            "deadline": (now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "order_document": SimpleUploadedFile("vordering.pdf", ORDER, "application/pdf"), **extra}


class ConvertCapTests:
    def test_the_conversion_takes_the_order_s_cap(self, legal1, legal2, legal3, authority):
        pres = disclosure_preservation_convert(
            actor=legal2, request=_preservation(legal1, legal2, legal3, authority), legal_basis=LegalBasis.SV_126N,
            reference="PV-PROD-4", order_document=ORDER, order_document_title="vordering.pdf",
            deadline=now() + timedelta(days=3), max_hits=500)
        assert pres.converted_to.max_hits == 500
        entry = AuditEntry.objects.filter(action="disclosure.receive").latest("pk")
        assert entry.extra["max_hits"] == 500

    def test_the_page_takes_the_cap_or_none_and_refuses_one_out_of_range_at_its_field(self, client, legal1, legal2,
                                                                                      legal3, authority):
        pres = _preservation(legal1, legal2, legal3, authority)
        c = verified_client(client, legal2)
        url = f"/disclosures/requests/{pres.pk}/convert/"
        refused = c.post(url, _form(max_hits=str(MAX_HITS_LIMIT + 1)))
        assert refused.status_code == 400 and REFUSAL in _error_of(refused.content.decode(), "max_hits")
        assert DisclosureRequest.objects.get(pk=pres.pk).converted_to is None
        assert c.post(url, _form(max_hits="1000")).status_code == 302
        assert DisclosureRequest.objects.get(pk=pres.pk).converted_to.max_hits == 1000

    def test_without_a_cap_the_new_request_has_none(self, client, legal1, legal2, legal3, authority):
        pres = _preservation(legal1, legal2, legal3, authority)
        c = verified_client(client, legal2)
        assert c.post(f"/disclosures/requests/{pres.pk}/convert/", _form()).status_code == 302
        assert DisclosureRequest.objects.get(pk=pres.pk).converted_to.max_hits is None

    def test_the_api_takes_the_cap_and_refuses_zero(self, legal1, legal2, legal3, authority):
        pres = _preservation(legal1, legal2, legal3, authority)
        body = {"legal_basis": "sv_126n", "reference": "PV-PROD-6", "order_document_title": "vordering.pdf",
                "order_document_base64": base64.b64encode(ORDER).decode(),
                "deadline": (now() + timedelta(days=3)).isoformat()}
        url = f"/api/v1/staff/disclosures/requests/{pres.pk}/convert-preservation/"
        zero = _api(legal2).post(url, {**body, "max_hits": 0}, format="json")
        assert zero.status_code == 400 and REFUSAL in zero.content.decode()
        ok = _api(legal2).post(url, {**body, "max_hits": 3}, format="json")
        assert ok.status_code == 200, ok.content.decode()
        assert DisclosureRequest.objects.get(pk=pres.pk).converted_to.max_hits == 3
