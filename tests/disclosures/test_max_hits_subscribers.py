"""The authority's cap on records (ETSI maxHits) holds for subscriber data too (LEGAL.md section 5, rows 16 and 22;
GDPR 5(1)(c)): a request that asks for user data over a contractor's users gets at most maxHits subscriber records,
the first by account id, whatever the call records, which are capped on their own (a cap per category: in TS 102 657
subscriber data and call records are separate requests, each with its maxHits). The manifest says per category how
many matched and how many went in, the request's page says that the subscribers were capped, the request ends
"capped" when either category was cut and counts once in the transparency report, and both the output check and
verify_package hold subscribers.json to its count."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import now

from disclosures.models import LegalBasis, Outcome
from disclosures.production import package_files, package_output_problems, package_zip, verify_zip, zip_bytes
from disclosures.rendering import manifest_capped
from tests.factories import make_cdr, make_user, verified_client
from voipxs.privacy.models import AuditEntry

from .conftest import OTHER, receive, to_state
from .test_output_scope import _refusal
from .test_package_rendering import _file, _restore
from .test_transparency_capped import CAPPED, _report, _row

pytestmark = pytest.mark.django_db

BOTH = ("traffic_data", "user_data")
SUBSCRIBER_RULE = "the first subscribers by account id, up to the cap (a cap of their own, apart from the call records')"


@pytest.fixture
def staff(acme):
    """Four users of the contractor Acme, each with a number of their own, in the order of their account ids."""
    return [make_user(name, contractor=acme, numbers=[f"+3120555021{i}"]) for i, name in
            enumerate(("dora", "eli", "fay", "gus"))]


def _calls(user, count: int) -> None:
    for i in range(count):
        make_cdr(account=user, src=user.phone_numbers.get().number, dst=OTHER,
                 started_at=now() - timedelta(days=1 + i))


def _produced(officers, authority, users, cap):
    legal1, legal2, legal3 = officers
    req = receive(legal1, authority, numbers=(), account_ids=[u.pk for u in users], basis=LegalBasis.SV_126N,
                  categories=BOTH, max_hits=cap)
    return to_state(req, "produced", intake=legal1, approvers=[legal2, legal3])


def _subscribers(package) -> list[int]:
    return [s["account_id"] for s in json.loads(package_files(package)["subscribers.json"])["subscribers"]]


@pytest.fixture
def officers(legal1, legal2, legal3):
    return legal1, legal2, legal3


class SubscriberCapTests:
    def test_a_cap_of_one_over_four_subscribers_hands_over_the_first_by_account_id_and_says_so(
            self, client, officers, authority, staff):
        _calls(staff[2], 1)
        req = _produced(officers, authority, staff, cap=1)
        package = req.package
        assert _subscribers(package) == [staff[0].pk]
        manifest = json.loads(package_files(package)["manifest.json"])
        assert (manifest["subscriber_count"], manifest["record_count"]) == (1, 1)
        assert manifest["max_hits"] == {
            "cap": 1, "matched": 1, "delivered": 1, "capped": False,
            "rule": "the first records in time order (start time, then record id), up to the cap",
            "subscribers": {"cap": 1, "matched": 4, "delivered": 1, "capped": True, "rule": SUBSCRIBER_RULE}}
        page = verified_client(client, officers[1]).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert "4 subscribers match; the authority capped the answer at 1 of them." in page
        assert "The package holds the first 1 by account number" in page and 'id="check"' in page
        assert "1 record matches, within the authority's cap of 1." in page
        produced = AuditEntry.objects.get(action="disclosure.produce", target_id=str(req.pk))
        assert (produced.extra["subscribers"], produced.extra["subscribers_matched"]) == (1, 4)
        assert "@example.org" not in str(produced.extra)

    def test_only_subscribers_cut_ends_capped_and_counts_once_in_the_report(
            self, officers, authority, staff, settings):
        _calls(staff[0], 1)
        req = _produced(officers, authority, staff, cap=1)
        assert req.package.record_count == 1 and not req.package.manifest["max_hits"]["capped"]
        delivered = to_state(req, "delivered", intake=officers[0], approvers=list(officers[1:]))
        assert delivered.outcome == Outcome.CAPPED
        checked = AuditEntry.objects.get(action="disclosure.output_check", target_id=str(req.pk))
        assert (checked.extra["subscribers"], checked.extra["subscribers_matched"]) == (1, 4)
        report = _report(officers[0], settings, threshold=1)
        assert report["by_outcome"][CAPPED] == "1" and report["by_outcome"]["Full"] == "0"
        assert (_row(report)["received"], _row(report)["capped"], _row(report)["full"]) == ("1", "1", "0")

    def test_call_records_are_capped_on_their_own_and_both_cut_counts_once(
            self, officers, authority, staff, settings):
        _calls(staff[1], 3)
        req = _produced(officers, authority, staff, cap=2)
        entry = req.package.manifest["max_hits"]
        assert req.package.record_count == 2 and _subscribers(req.package) == [staff[0].pk, staff[1].pk]
        assert (entry["matched"], entry["delivered"], entry["capped"]) == (3, 2, True)
        assert {k: entry["subscribers"][k] for k in ("matched", "delivered", "capped")} == {
            "matched": 4, "delivered": 2, "capped": True}
        delivered = to_state(req, "delivered", intake=officers[0], approvers=list(officers[1:]))
        assert delivered.outcome == Outcome.CAPPED
        report = _report(officers[0], settings, threshold=1)
        assert report["by_outcome"][CAPPED] == "1" and _row(report)["capped"] == "1"

    def test_calls_cut_and_subscribers_within_the_cap_says_each(self, client, officers, authority, staff):
        _calls(staff[0], 3)
        req = _produced(officers, authority, staff[:2], cap=2)
        entry = req.package.manifest["max_hits"]
        assert entry["capped"] and not entry["subscribers"]["capped"] and entry["subscribers"]["matched"] == 2
        page = verified_client(client, officers[1]).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert "3 records match; the authority capped the answer at 2." in page
        assert "2 subscribers match, within the authority's cap of 2." in page
        assert 'class="warning" id="max-hits-subscribers"' not in page

    def test_without_a_cap_every_subscriber_goes_and_the_manifest_is_as_before(self, officers, authority, staff):
        _calls(staff[3], 2)
        req = _produced(officers, authority, staff, cap=None)
        assert _subscribers(req.package) == [u.pk for u in staff]
        manifest = req.package.manifest
        assert "max_hits" not in manifest and manifest["subscriber_count"] == 4 and req.package.record_count == 2
        assert sorted(manifest) == ["approvers", "authority", "files", "legal_basis", "produced_at", "provider_id",
                                    "received_by", "record_count", "reference", "request_id", "scope",
                                    "subscriber_count"]
        delivered = to_state(req, "delivered", intake=officers[0], approvers=list(officers[1:]))
        assert delivered.outcome == Outcome.FULL

    def test_a_user_data_request_shows_only_the_subscribers_cap(self, client, officers, authority, staff):
        legal1, legal2, legal3 = officers
        req = receive(legal1, authority, numbers=(), account_ids=[u.pk for u in staff], basis=LegalBasis.SV_126NA,
                      categories=("user_data",), max_hits=3)
        req = to_state(req, "produced", intake=legal1, approvers=[legal2, legal3])
        assert _subscribers(req.package) == [u.pk for u in staff[:3]]
        page = verified_client(client, legal2).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert "4 subscribers match; the authority capped the answer at 3 of them." in page
        assert 'id="max-hits-count"' not in page  # no call records were asked for


class SubscriberCapCheckTests:
    def test_the_output_check_refuses_subscribers_over_the_cap(self, officers, authority, staff):
        req = _produced(officers, authority, staff, cap=1)
        data = json.loads(_file(req.package, "subscribers.json"))
        data["subscribers"].append({**data["subscribers"][0], "account_id": staff[1].pk})
        _restore(req.package, "subscribers.json", json.dumps(data, indent=1).encode())
        message = _refusal(req, officers[1])
        assert "subscribers.json: 2 records, more than the 1 the authority capped the answer at" in message
        assert "subscribers.json: 2 records, the manifest says 1" in message
        assert "@example.org" not in message

    def test_verify_package_passes_on_the_capped_package_and_fails_when_tampered(self, officers, authority, staff):
        _calls(staff[0], 2)
        req = _produced(officers, authority, staff, cap=1)
        assert package_output_problems(req.package) == []
        data = package_zip(req.package)
        assert verify_zip(data) == []
        zf = zipfile.ZipFile(io.BytesIO(data))
        files = {n: zf.read(n) for n in zf.namelist()}
        tampered = bytearray(data)
        tampered[data.index(b"subscribers.json") + 40] ^= 0x01
        assert verify_zip(bytes(tampered))
        # Resealed and signed by us, but a subscriber added beside the manifest's hash and count: both are named.
        whole = json.loads(files["subscribers.json"])
        whole["subscribers"].append(whole["subscribers"][0])
        problems = verify_zip(zip_bytes({**files, "subscribers.json": json.dumps(whole).encode()}))
        assert list(map(str, problems)) == ["subscribers.json: SHA-256 differs from the manifest"]
        manifest = json.loads(files["manifest.json"])
        manifest["subscriber_count"] = 2
        problems = verify_zip(zip_bytes({**files, "manifest.json": json.dumps(manifest).encode()}))
        assert list(map(str, problems)) == ["subscribers.json: record count differs from the manifest"]

    def test_a_package_made_before_subscribers_were_capped_still_verifies_and_reads(self, officers, authority, staff):
        req = _produced(officers, authority, staff, cap=1)
        files = package_files(req.package)
        manifest = json.loads(files["manifest.json"])
        del manifest["max_hits"]["subscribers"]  # the entry as packages made before had it: calls only
        assert verify_zip(zip_bytes({**files, "manifest.json": json.dumps(manifest).encode()})) == []
        assert not manifest_capped(manifest) and manifest_capped({"max_hits": {"capped": True}})
        assert not manifest_capped({})


class SubscriberScopeCheckTests:
    """The output check holds each subscriber record to the approved scope, as it holds each call record: a target
    account, or the holder of a target number in the period asked for, listing no other number."""

    def test_a_subscriber_who_is_no_target_is_refused_by_place_never_by_data(self, officers, authority, staff):
        req = _produced(officers, authority, staff[:2], cap=None)
        assert package_output_problems(req.package) == []
        data = json.loads(_file(req.package, "subscribers.json"))
        data["subscribers"][1] = {**data["subscribers"][1], "account_id": staff[3].pk, "email": staff[3].email}
        _restore(req.package, "subscribers.json", json.dumps(data, indent=1).encode())
        message = _refusal(req, officers[1])
        assert ("subscribers.json: subscriber 2 is outside the approved scope (it is no target account and holds no "
                "target number in the period asked for)") in message
        assert "@example.org" not in message

    def test_a_number_the_holder_has_besides_the_target_is_refused(self, officers, authority, staff):
        legal1, legal2, legal3 = officers
        target = staff[0].phone_numbers.get().number
        req = receive(legal1, authority, numbers=[target], basis=LegalBasis.SV_126N, categories=("user_data",))
        req = to_state(req, "produced", intake=legal1, approvers=[legal2, legal3])
        data = json.loads(_file(req.package, "subscribers.json"))
        assert [s["account_id"] for s in data["subscribers"]] == [staff[0].pk]
        assert [n["number"] for n in data["subscribers"][0]["numbers"]] == [target]
        assert package_output_problems(req.package) == []
        other = {**data["subscribers"][0]["numbers"][0], "number": staff[1].phone_numbers.get().number}
        data["subscribers"][0]["numbers"].append(other)
        _restore(req.package, "subscribers.json", json.dumps(data, indent=1).encode())
        message = _refusal(req, legal2)
        assert ("subscribers.json: subscriber 1 is outside the approved scope (it lists a number that is no target in "
                "the period asked for)") in message
        assert "+31" not in message

    @pytest.mark.parametrize("broken", [{"account_id": 1, "numbers": [{"number": "+31205550210"}]}, ["not", "a record"],
                                        {"account_id": 1, "numbers": [{"number": 7, "valid_from": None}]}])
    def test_a_subscriber_record_of_another_shape_is_refused_not_a_crash(self, officers, authority, staff, broken):
        req = _produced(officers, authority, staff[:1], cap=None)
        data = json.loads(_file(req.package, "subscribers.json"))
        data["subscribers"][0] = broken
        _restore(req.package, "subscribers.json", json.dumps(data, indent=1).encode())
        assert "subscribers.json: cannot be opened (ValueError)" in _refusal(req, officers[1])
