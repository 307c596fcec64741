"""The authority's cap on the number of records (ETSI TS 102 657 RequestMessage maxHits; LEGAL.md section 5, row 16):
taken in on the intake page and by the API (no ETSI requestMessage is parsed at intake: an XML request is filed as a
document, and the officer enters its maxHits), refused at its field when it is not a whole number from 1 to the
limit, shown on the request's page; the package holds at most that many records, the first in time order, and the
manifest and the request's page say how many matched. Audit entries keep counts only."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import now

from disclosures.models import DisclosureRequest
from disclosures.production import package_files
from disclosures.services.intake import MAX_HITS_LIMIT, disclosure_request_receive
from tests.factories import make_cdr, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

from .conftest import ALICE_NUMBER, OTHER, receive, to_state
from .test_intake_document import _api, _error_of
from .test_intake_document import _api_body as intake_body
from .test_intake_document import _page_form as intake_form

pytestmark = pytest.mark.django_db

API = "/api/v1/staff/disclosures/requests/receive/"
REFUSAL = "The cap on the number of records (maxHits) is a whole number from 1 to 10 million"


def _page_form(authority, **extra) -> dict:
    return intake_form(authority, **{"reference": "PV-CAP-1", "document_is_order": "", **extra})


def _api_body(authority, **extra) -> dict:
    return intake_body(authority, None, **{"reference": "API-CAP-1", **extra})


class IntakeTests:
    def test_the_page_takes_the_cap_and_the_request_page_shows_it(self, client, legal1, authority):
        c = verified_client(client, legal1)
        r = c.post(reverse("disclosures:request-new"), _page_form(authority, max_hits="25"))
        assert r.status_code == 302, r.content.decode()[:2000]
        req = DisclosureRequest.objects.get(reference="PV-CAP-1")
        assert req.max_hits == 25
        page = c.get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert '<dd id="max-hits">25</dd>' in page
        entry = AuditEntry.objects.get(action="disclosure.receive", target_id=str(req.pk))
        assert entry.extra["max_hits"] == 25

    def test_without_a_cap_the_page_says_every_matching_record(self, client, legal1, authority):
        c = verified_client(client, legal1)
        r = c.post(reverse("disclosures:request-new"), _page_form(authority, max_hits=""))
        assert r.status_code == 302
        req = DisclosureRequest.objects.get(reference="PV-CAP-1")
        assert req.max_hits is None
        assert "None: every matching record" in c.get(reverse("disclosures:detail", args=[req.pk])).content.decode()

    @pytest.mark.parametrize("value", ["0", "-3", str(MAX_HITS_LIMIT + 1), "9" * 40])
    def test_the_page_refuses_a_cap_out_of_range_at_its_field(self, client, legal1, authority, value):
        r = verified_client(client, legal1).post(reverse("disclosures:request-new"),
                                                 _page_form(authority, max_hits=value))
        assert r.status_code == 400
        assert REFUSAL in _error_of(r.content.decode(), "max_hits")
        assert not DisclosureRequest.objects.exists()

    @pytest.mark.parametrize("value", ["ten", "2.5", "1e3"])
    def test_the_page_refuses_a_cap_that_is_no_whole_number_at_its_field(self, client, legal1, authority, value):
        r = verified_client(client, legal1).post(reverse("disclosures:request-new"),
                                                 _page_form(authority, max_hits=value))
        assert r.status_code == 400 and _error_of(r.content.decode(), "max_hits")
        assert not DisclosureRequest.objects.exists()

    def test_the_api_takes_the_cap_and_answers_with_it(self, legal1, authority):
        api = _api(legal1)
        r = api.post(API, _api_body(authority, max_hits=MAX_HITS_LIMIT), format="json")
        assert r.status_code == 201, r.json()
        assert r.json()["max_hits"] == MAX_HITS_LIMIT
        r = api.post(API, _api_body(authority, reference="API-CAP-2"), format="json")
        assert r.status_code == 201 and r.json()["max_hits"] is None

    @pytest.mark.parametrize("value", [0, -1, MAX_HITS_LIMIT + 1, 10 ** 40, "ten", 2.5, True, [3], {"n": 3}])
    def test_the_api_refuses_a_bad_cap_naming_the_field_never_with_a_500(self, legal1, authority, value):
        r = _api(legal1).post(API, _api_body(authority, max_hits=value), format="json")
        assert r.status_code == 400, r.content
        body = r.json()
        assert body.get("field") == "max_hits" or "max_hits" in body, body
        assert not DisclosureRequest.objects.exists()

    @pytest.mark.parametrize("value", [0, MAX_HITS_LIMIT + 1, True, "5", 2.0])
    def test_the_service_refuses_what_is_no_cap_itself(self, legal1, authority, value):
        with pytest.raises(ApplicationError) as caught:
            disclosure_request_receive(actor=legal1, authority=authority, reference="S-1", legal_basis="sv_126n",
                                       categories=["traffic_data"], window_start=now() - timedelta(days=2),
                                       window_end=now(), deadline=now() + timedelta(days=1),
                                       numbers=[ALICE_NUMBER], max_hits=value)
        assert caught.value.extra["field"] == "max_hits" and caught.value.message.startswith(REFUSAL)


def _calls(count: int) -> list:
    """`count` calls of alice's, one a day back from yesterday (oldest last)."""
    t = now()
    return [make_cdr(src=ALICE_NUMBER, dst=OTHER, started_at=t - timedelta(days=1 + i, minutes=i))
            for i in range(count)]


def _record_ids(files: dict[str, bytes]) -> dict[str, list[int]]:
    xml = files["calls_etsi.xml"].decode()
    return {
        "calls.json": [r["record_id"] for r in json.loads(files["calls.json"])["records"]],
        "calls.csv": [int(row["record_id"]) for row in csv.DictReader(io.StringIO(files["calls.csv"].decode()))],
        "calls_etsi.xml": [int(part.split('"', 1)[0]) for part in xml.split('"cdrID"="')[1:]],
    }


class CappedPackageTests:
    def test_more_matches_than_the_cap_give_the_first_in_time_order_and_say_so(
            self, client, legal1, legal2, legal3, authority, alice):
        calls = _calls(5)
        req = to_state(receive(legal1, authority, max_hits=3), "produced", intake=legal1, approvers=[legal2, legal3])
        package = req.package
        first_three = [c.pk for c in sorted(calls, key=lambda c: c.started_at)[:3]]
        assert package.record_count == 3
        for name, ids in _record_ids(package_files(package)).items():
            assert ids == first_three, name
        manifest = json.loads(package_files(package)["manifest.json"])
        assert manifest["record_count"] == 3
        assert manifest["max_hits"] == {"cap": 3, "matched": 5, "delivered": 3, "capped": True,
                                        "rule": "the first records in time order (start time, then record id), up to "
                                                "the cap"}
        page = verified_client(client, legal2).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert "5 records match; the authority capped the answer at 3." in page
        assert 'id="check"' in page  # shown at the output check, before it is approved
        produced = AuditEntry.objects.get(action="disclosure.produce", target_id=str(req.pk))
        assert (produced.extra["records"], produced.extra["matched"], produced.extra["max_hits"]) == (3, 5, 3)
        req = to_state(req, "checked", intake=legal1, approvers=[legal2, legal3])
        checked = AuditEntry.objects.get(action="disclosure.output_check", target_id=str(req.pk))
        assert (checked.extra["records"], checked.extra["matched"], checked.extra["max_hits"]) == (3, 5, 3)
        assert ALICE_NUMBER not in str(produced.extra) + str(checked.extra)

    def test_within_the_cap_everything_goes_and_the_page_says_it_was_within(
            self, client, legal1, legal2, legal3, authority, alice):
        _calls(2)
        req = to_state(receive(legal1, authority, max_hits=3), "produced", intake=legal1, approvers=[legal2, legal3])
        assert req.package.record_count == 2
        assert req.package.manifest["max_hits"]["capped"] is False
        page = verified_client(client, legal2).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert "2 records match, within the authority's cap of 3." in page

    def test_without_a_cap_the_manifest_has_no_cap_entry(self, legal1, legal2, legal3, authority, alice):
        _calls(2)
        req = to_state(receive(legal1, authority), "produced", intake=legal1, approvers=[legal2, legal3])
        assert req.package.record_count == 2 and "max_hits" not in req.package.manifest
