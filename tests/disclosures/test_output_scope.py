"""The output check holds every record of every file that carries records (calls.csv, calls.json, calls_etsi.xml)
against the approved scope and the authority's cap (disclosures/output_scope.py; LEGAL.md section 5, row 16:
"Injected out-of-scope rows make QA fail"). A record slipped into any one of the three files after the build, with
a party number that is not a target, a start outside the window, or beyond maxHits, makes the output check refuse
the package, naming that file and the record's place in it, never its data. Before, only the build checked its
rows, and the output check looked at the files' layout and counts."""
from __future__ import annotations

import copy
import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
from django.utils.timezone import now

from disclosures.etsi import NAMESPACE
from disclosures.models import Package, Status
from disclosures.services.transitions import disclosure_output_check, disclosure_production_start
from tests.factories import make_cdr, verified_client
from traffic.exports import neutralise
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .conftest import ALICE_NUMBER, OTHER, produce, receive, to_state
from .test_package_rendering import _file, _restore

pytestmark = pytest.mark.django_db

STRANGER = "+31205551111"  # nobody's target
FILES = ("calls.csv", "calls.json", "calls_etsi.xml")
_TAG = f"{{{NAMESPACE}}}"


def _csv(data: bytes, change) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    rows = [rows[0], *change([dict(zip(rows[0], row)) for row in rows[1:]])]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rows[0])
    writer.writerows([list(r.values()) for r in rows[1:]])
    return out.getvalue().encode()


def _json(data: bytes, change) -> bytes:
    whole = json.loads(data)
    whole["records"] = change(whole["records"])
    return json.dumps(whole, ensure_ascii=False, indent=1).encode()  # the layout rendering.py writes


def _xml(data: bytes, change) -> bytes:
    ET.register_namespace("", NAMESPACE)
    root = ET.fromstring(data)
    payload = root.find(f"{_TAG}retainedDataPayload/{_TAG}responseMessage/{_TAG}responsePayload")
    records = list(payload)
    for record in records:
        payload.remove(record)
    payload.extend(change(records))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _first(fix):
    return lambda records: [fix(records[0]), *records[1:]]


def _xml_texts(record, tag: str):
    return [e for e in record.iter() if e.tag.rpartition("}")[2] == tag]


def _stranger(name: str):
    """The first record's target number replaced by a number that is nobody's target."""
    def csv_row(r):
        return {**r, "originating_party": neutralise(STRANGER)}

    def json_record(r):
        return {**r, "originating_party": STRANGER}

    def xml_record(r):
        for e in _xml_texts(r, "partyNumber"):
            if e.text == ALICE_NUMBER:
                e.text = STRANGER
        return r
    return {"calls.csv": csv_row, "calls.json": json_record, "calls_etsi.xml": xml_record}[name]


OUT_OF_WINDOW = now().astimezone(timezone.utc).replace(microsecond=0) - timedelta(days=45)


def _early(name: str):
    """The first record's start moved before the window."""
    iso = OUT_OF_WINDOW.isoformat().replace("+00:00", "Z")

    def xml_record(r):
        for e in _xml_texts(r, "startTime"):
            e.text = OUT_OF_WINDOW.strftime("%Y%m%d%H%M%SZ")
        return r
    return {"calls.csv": lambda r: {**r, "start_utc": iso}, "calls.json": lambda r: {**r, "start_utc": iso},
            "calls_etsi.xml": xml_record}[name]


def _inject(package: Package, name: str, change) -> None:
    edit = {"calls.csv": _csv, "calls.json": _json, "calls_etsi.xml": _xml}[name]
    _restore(package, name, edit(_file(package, name), change))


@pytest.fixture
def produced_request(legal1, legal2, legal3, authority, alice):
    t = now()
    for days in (1, 2, 3):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=t - timedelta(days=days))
    return to_state(receive(legal1, authority, max_hits=3), "produced", intake=legal1, approvers=[legal2, legal3])


def _refusal(req, checker) -> str:
    with pytest.raises(ApplicationError) as caught:
        disclosure_output_check(actor=checker, request=req)
    assert caught.value.extra["field"] == "package"
    return caught.value.message


class InjectedRecordTests:
    @pytest.mark.parametrize("name", FILES)
    @pytest.mark.parametrize(("change", "reason"), [(_stranger, "no party number is a target at its time"),
                                                    (_early, "it starts outside the period asked for")])
    def test_a_record_out_of_scope_fails_the_check_naming_its_file_and_place(self, produced_request, legal2, name,
                                                                            change, reason):
        _inject(produced_request.package, name, _first(change(name)))
        message = _refusal(produced_request, legal2)
        assert f"{name}: record 1 is outside the approved scope ({reason})" in message
        assert not any(other in message for other in FILES if other != name), message
        assert STRANGER not in message and ALICE_NUMBER not in message

    @pytest.mark.parametrize("name", FILES)
    def test_a_record_beyond_the_cap_fails_the_check_naming_its_file(self, produced_request, legal2, name):
        _inject(produced_request.package, name, lambda records: [*records, copy.deepcopy(records[-1])])
        message = _refusal(produced_request, legal2)
        assert f"{name}: 4 records, more than the 3 the authority capped the answer at" in message

    def test_an_etsi_file_with_a_record_less_than_the_manifest_fails_the_check(self, produced_request, legal2):
        _inject(produced_request.package, "calls_etsi.xml", lambda records: records[:-1])
        assert "calls_etsi.xml: 2 records, the manifest says 3" in _refusal(produced_request, legal2)

    def test_the_untouched_package_passes(self, produced_request, legal2):
        assert disclosure_output_check(actor=legal2, request=produced_request).status == Status.CHECKED


class AdmittedRecordTests:
    def test_a_call_within_the_windows_first_second_passes_though_the_files_write_whole_seconds(
            self, legal1, legal2, legal3, authority, alice):
        start = now().astimezone(timezone.utc).replace(microsecond=200_000) - timedelta(days=2)
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=start + timedelta(microseconds=200_000))
        req = to_state(receive(legal1, authority, window=(start, start + timedelta(days=1))), "produced",
                       intake=legal1, approvers=[legal2, legal3])
        assert req.package.record_count == 1
        assert disclosure_output_check(actor=legal2, request=req).status == Status.CHECKED

    def test_a_target_accounts_call_to_numbers_not_named_passes_and_a_stranger_record_does_not(
            self, legal1, legal2, legal3, authority, alice):
        make_cdr(account=alice, src="+31205559876", dst=OTHER, started_at=now() - timedelta(days=1))
        req = to_state(receive(legal1, authority, numbers=(), account_ids=[alice.pk]), "produced", intake=legal1,
                       approvers=[legal2, legal3])
        assert req.package.record_count == 1
        _inject(req.package, "calls.json", lambda records: [*records, {**records[0], "record_id": 10 ** 9}])
        message = _refusal(req, legal2)
        assert ("calls.json: record 2 is outside the approved scope (no party number is a target at its time, and "
                "it is no call of a target account)") in message

    def test_a_target_accounts_call_passes_the_check(self, legal1, legal2, legal3, authority, alice):
        make_cdr(account=alice, src="+31205559876", dst=OTHER, started_at=now() - timedelta(days=1))
        req = to_state(receive(legal1, authority, numbers=(), account_ids=[alice.pk]), "produced", intake=legal1,
                       approvers=[legal2, legal3])
        assert disclosure_output_check(actor=legal2, request=req).status == Status.CHECKED

    def test_an_account_record_with_another_start_than_its_call_fails(self, legal1, legal2, legal3, authority, alice):
        make_cdr(account=alice, src="+31205559876", dst=OTHER, started_at=now() - timedelta(days=1))
        req = to_state(receive(legal1, authority, numbers=(), account_ids=[alice.pk]), "produced", intake=legal1,
                       approvers=[legal2, legal3])
        moved = (datetime.now(timezone.utc) - timedelta(days=5)).replace(microsecond=0)
        _inject(req.package, "calls_etsi.xml", _first(lambda r: [setattr(e, "text", moved.strftime("%Y%m%d%H%M%SZ"))
                                                                 for e in _xml_texts(r, "startTime")] and r))
        assert "calls_etsi.xml: record 1 is outside the approved scope" in _refusal(req, legal2)


class ProducedAgainTests:
    """The output check's refusal ends "Produce it again.": a package that fails it is built anew from the approved
    scope, as the refusal says, instead of leaving the request at "produced" with only a check that refuses."""

    def test_a_package_refused_at_the_output_check_is_produced_again_and_then_passes(
            self, client, produced_request, legal1, legal2):
        old = produced_request.package.pk
        _inject(produced_request.package, "calls.csv", _first(_stranger("calls.csv")))
        assert "Produce it again." in _refusal(produced_request, legal2)
        page = verified_client(client, legal1).get(f"/disclosures/requests/{produced_request.pk}/").content.decode()
        assert 'id="produce"' in page
        req = produce(legal1, produced_request)
        assert req.status == Status.PRODUCED and req.package.pk != old
        assert not Package.objects.filter(pk=old).exists()
        assert disclosure_output_check(actor=legal2, request=req).status == Status.CHECKED
        entry = AuditEntry.objects.filter(action="disclosure.production_start", target_id=str(req.pk)).last()
        assert entry.extra["replaces_package"] == old

    def test_an_approver_still_cannot_produce_it_again(self, produced_request, legal2):
        with pytest.raises(ApplicationError, match="cannot also collect"):
            disclosure_production_start(actor=legal2, request=produced_request)
        assert Package.objects.filter(request=produced_request).exists()
