"""The package's files are written a batch of records at a time into temporary files (rendering.py) and read back
by the output check a chunk at a time (stored.py), instead of whole in memory: the bytes of every file, and so
every SHA-256 and seal on record, are exactly those of the whole-file writers they replaced (kept below as they
were, to compare with), and the output check still finds what it found."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from django.conf import settings

from disclosures import production
from disclosures.models import Package, PackageFile
from disclosures.production import _aad, package_output_problems, package_zip, verify_zip, zip_bytes
from disclosures.rendering import CSV_HEADER, calls_json_count, render_files
from disclosures.selectors import Row, scope_of
from tests.factories import make_cdr
from voipxs.privacy.crypto import decrypt_bytes, encrypt_bytes

from .conftest import ALICE_NUMBER, OTHER, receive, to_state

pytestmark = pytest.mark.django_db

# --- the whole-file writers as they were, verbatim ---------------------------------------------------------
_NS = "http://uri.etsi.org/02657/v1.28.1#/RetainedData"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _old_neutralise(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _old_iso(moment):
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _gt(moment):
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%SZ")


def _old_sub(parent, tag, text=None):
    element = ET.SubElement(parent, f"{{{_NS}}}{tag}")
    if text is not None:
        element.text = str(text)
    return element


def _old_record(payload, number, row):
    record = _old_sub(payload, "ResponseRecord")
    _old_sub(record, "recordNumber", number)
    usage = _old_sub(_old_sub(_old_sub(record, "recordPayload"), "telephonyRecord"), "telephonyServiceUsage")
    parties = _old_sub(usage, "partyInformation")
    end = row.started_at + timedelta(seconds=row.duration)
    for role, party_number in (("originating-Party", row.src), ("terminating-Party", row.dst)):
        party = _old_sub(parties, "TelephonyPartyInformation")
        _old_sub(_old_sub(party, "partyRole"), role)
        _old_sub(party, "partyNumber", party_number)
        when = _old_sub(party, "communicationTime")
        _old_sub(when, "startTime", _gt(row.started_at))
        _old_sub(when, "endTime", _gt(end))
        _old_sub(when, "durationTime", row.duration)
    other = ";".join(f'"{k}"="{v}"' for k, v in (("cdrID", row.cdr_id), ("direction", row.direction),
                                                  ("disposition", row.disposition)))
    _old_sub(_old_sub(record, "additionalInformation"), "otherInformation", other)


def _old_etsi(*, reference, authority, provider_id, generated_at, rows):
    ET.register_namespace("", _NS)
    root = ET.Element(f"{{{_NS}}}retainedDataMessage")
    _old_sub(root, "rdHeaderId", "0.4.0.2.3.0.28")
    header = _old_sub(root, "retainedDataHeader")
    request = _old_sub(header, "requestID")
    _old_sub(request, "countryCode", "NL")
    _old_sub(request, "authorisedOrganisationID", authority)
    _old_sub(request, "requestNumber", reference)
    _old_sub(header, "cSPID", provider_id)
    _old_sub(header, "timeStamp", _gt(generated_at))
    response = _old_sub(_old_sub(root, "retainedDataPayload"), "responseMessage")
    _old_sub(_old_sub(response, "responseStatus"), "responseComplete")
    payload = _old_sub(response, "responsePayload")
    for number, row in enumerate(rows, start=1):
        _old_record(payload, number, row)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _old_render_files(*, req, scope, rows, subscribers, approvers, generated_at):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    records = []
    for r in rows:
        end = r.started_at + timedelta(seconds=r.duration)
        cells = [r.cdr_id, _old_iso(r.started_at), _old_iso(end), r.duration, r.billsec, r.direction, r.disposition,
                 r.src, r.dst, r.call]
        writer.writerow([_old_neutralise(c) for c in cells])
        records.append(dict(zip(CSV_HEADER, cells)))
    files = {
        "calls.csv": out.getvalue().encode(),
        "calls.json": json.dumps({"request": req.pk, "records": records}, ensure_ascii=False, indent=1).encode(),
        "calls_etsi.xml": _old_etsi(reference=req.reference, authority=req.authority.name,
                                    provider_id=settings.DISCLOSURE_PROVIDER_ID, generated_at=generated_at, rows=rows),
    }
    if subscribers is not None:
        files["subscribers.json"] = json.dumps({"request": req.pk, "subscribers": subscribers}, ensure_ascii=False,
                                               indent=1).encode()
    manifest = {
        "request_id": req.pk, "reference": req.reference,
        "authority": {"id": req.authority_id, "name": req.authority.name, "kind": req.authority.kind},
        "provider_id": settings.DISCLOSURE_PROVIDER_ID, "legal_basis": req.legal_basis,
        "scope": {"window_start": _old_iso(scope.window.start), "window_end": _old_iso(scope.window.end),
                  "categories": list(scope.categories), "numbers": len(scope.numbers),
                  "accounts": sorted(scope.accounts),
                  "number_periods": sum(len(v) for v in scope.numbers.values())},
        "approvers": approvers, "received_by": req.received_by_id, "produced_at": _old_iso(generated_at),
        "record_count": len(rows),
        "subscriber_count": len(subscribers) if subscribers is not None else None,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for name, data in sorted(files.items())},
    }
    files["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    return files
# ------------------------------------------------------------------------------------------------------------

# What callers, switches and CDR files may put in a number or a field: markup, quotes, formulas, line breaks,
# characters beyond ASCII (a line separator among them), a lone surrogate is refused by both alike (not here).
_NASTY = ["+31205550101", "=cmd|' /C calc'!A0", 'a"b,c', "<x>&amp;</x>", "line\nbreak", "cr\rhere", "\tTab",
          "é ü 中文 🙂", "sep\u2028arator", "]]>", "", "-1", "@SUM(A1)"]


def _rows(count: int) -> list[Row]:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    return [Row(cdr_id=i, started_at=start + timedelta(seconds=37 * i), answered_at=None, duration=i % 700,
                billsec=i % 650, direction=_NASTY[i % 3], disposition=_NASTY[(i + 5) % len(_NASTY)],
                src=_NASTY[i % len(_NASTY)], dst=_NASTY[(i * 7) % len(_NASTY)], src_index="s", dst_index="d",
                account_id=None, call=_NASTY[(i * 3) % len(_NASTY)] + str(i)) for i in range(count)]


@pytest.fixture
def request_on_file(legal1, authority):
    authority.name = "Politie <Eenheid> & \"Amsterdam\" é"
    authority.save(update_fields=["name"])
    req = receive(legal1, authority)
    req.reference = "PL<1300>&'2026'"
    return req


class PackageRenderingTests:
    @pytest.mark.parametrize("count", [0, 1, 2, 2_501])  # 2,501: several batches and a part batch
    @pytest.mark.parametrize("subscribers", [None, [{"number": "+31205550101", "name": "Zoë <\"Z\">"}]])
    def test_every_file_is_byte_for_byte_the_one_the_whole_file_writers_made(self, request_on_file, count,
                                                                            subscribers):
        kwargs = dict(req=request_on_file, scope=scope_of(request_on_file), rows=_rows(count),
                      subscribers=subscribers, approvers=[3, 5], generated_at=datetime(2026, 4, 1, tzinfo=timezone.utc))
        new, old = render_files(**kwargs), _old_render_files(**kwargs)
        assert list(new) == list(old)  # the same files, stored in the same order
        for name in old:
            assert new[name] == old[name], name

    @pytest.mark.parametrize("count", [0, 1, 1_000, 1_001])
    def test_calls_json_is_counted_a_line_at_a_time(self, request_on_file, count):
        data = render_files(req=request_on_file, scope=scope_of(request_on_file), rows=_rows(count),
                            subscribers=None, approvers=[], generated_at=datetime.now(timezone.utc))["calls.json"]
        assert calls_json_count(io.StringIO(data.decode(), newline="\n")) == count
        assert len(json.loads(data)["records"]) == count

    @pytest.mark.parametrize("damage", [
        lambda d: json.dumps(json.loads(d), ensure_ascii=False),  # valid JSON, another layout
        lambda d: d[:-1],  # cut short
        lambda d: d + "\n",  # something after the end
        lambda d: d.replace('"record_id": 1,', '"record_id": 1', 1),  # one record broken
        lambda d: d.replace("  },\n  {\n", "  },\n", 1),  # a record's opening line gone
        lambda d: d.replace('"request": ', '"request": x', 1),
    ])
    def test_calls_json_in_any_other_layout_is_refused(self, request_on_file, damage):
        data = render_files(req=request_on_file, scope=scope_of(request_on_file), rows=_rows(3),
                            subscribers=None, approvers=[], generated_at=datetime.now(timezone.utc))["calls.json"]
        with pytest.raises(ValueError):
            calls_json_count(io.StringIO(damage(data.decode()), newline="\n"))


class PackageBuildTests:
    def test_a_package_of_many_chunks_is_stored_as_the_whole_file_writers_made_it(self, legal1, legal2, legal3,
                                                                                  authority, monkeypatch):
        """Through the build as a production runs it (rows checked against the scope left out: synthetic rows),
        files of several chunks each are stored and read back (package_files; the output check) unchanged."""
        req = to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
        rows, moment = _rows(12_000), datetime(2026, 4, 1, 9, 30, tzinfo=timezone.utc)
        monkeypatch.setattr(production, "disclosure_scope_rows", lambda **_kw: (scope_of(req), list(rows)))
        monkeypatch.setattr(production, "check_rows", lambda scope, rows: None)
        monkeypatch.setattr(production, "tz_now", lambda: moment)
        package = production.build_package(request=req, actor=legal1)
        old = _old_render_files(req=req, scope=scope_of(req), rows=rows, subscribers=None,
                                approvers=sorted(req.approvals.values_list("officer_id", flat=True)),
                                generated_at=moment)
        assert len(old["calls_etsi.xml"]) > 3 * (1 << 20)
        assert production.package_files(package) == old
        assert {f.name: (f.sha256, f.size) for f in package.files.all()} == {
            name: (hashlib.sha256(data).hexdigest(), len(data)) for name, data in old.items()}
        assert package.record_count == 12_000 and package.manifest == json.loads(old["manifest.json"])
        assert package_output_problems(package) == []


def _restore(package: Package, name: str, data: bytes) -> None:
    """Store `data` as `name` consistently: its hash and the manifest's entry changed with it (so that only
    opening the file, or counting its records, finds what is wrong)."""
    digest = hashlib.sha256(data).hexdigest()
    PackageFile.objects.filter(package=package, name=name).update(
        content_enc=encrypt_bytes(data, aad=_aad(package.pk, name)), sha256=digest, size=len(data))
    stored = PackageFile.objects.get(package=package, name="manifest.json")
    manifest = json.loads(decrypt_bytes(stored.content_enc, aad=_aad(package.pk, "manifest.json")))
    manifest["files"][name] = {"sha256": digest, "size": len(data)}
    text = json.dumps(manifest).encode()
    PackageFile.objects.filter(pk=stored.pk).update(content_enc=encrypt_bytes(text, aad=_aad(package.pk,
                                                                                            "manifest.json")),
                                                    sha256=hashlib.sha256(text).hexdigest(), size=len(text))


@pytest.fixture
def produced(legal1, legal2, legal3, authority, alice):
    t = datetime.now(timezone.utc)
    for days, dst in ((1, OTHER), (2, "=cmd|' /C calc'!A0"), (3, OTHER)):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=dst, started_at=t - timedelta(days=days))
    return Package.objects.get(request=to_state(receive(legal1, authority), "produced", intake=legal1,
                                                approvers=[legal2, legal3]))


def _file(package: Package, name: str) -> bytes:
    stored = PackageFile.objects.get(package=package, name=name)
    return decrypt_bytes(stored.content_enc, aad=_aad(package.pk, name))


class StreamedOutputCheckTests:
    def test_a_sound_package_has_no_problems(self, produced):
        assert package_output_problems(produced) == []

    def test_a_calls_json_that_does_not_parse_is_named(self, produced):
        _restore(produced, "calls.json", _file(produced, "calls.json").replace(b'"record_id"', b'"record_id', 1))
        # The check of the ZIP counts its records and cannot (before, it stopped with an error of its own).
        assert package_output_problems(produced) == ["calls.json: not laid out as the package format writes it",
                                                     "calls.json: cannot be opened (JSONDecodeError)"]

    def test_a_calls_json_with_a_record_less_than_the_manifest_is_named(self, produced):
        data = _file(produced, "calls.json").decode()
        first_end = data.index("  },\n") + len("  },\n")
        _restore(produced, "calls.json", (data[:data.index("  {\n")] + data[first_end:]).encode())
        assert package_output_problems(produced) == ["calls.json: record count differs from the manifest"]

    def test_a_calls_csv_with_a_row_less_than_the_manifest_is_named(self, produced):
        data = _file(produced, "calls.csv")
        _restore(produced, "calls.csv", data[:data.rindex(b"\r\n", 0, len(data) - 2) + 2])
        assert package_output_problems(produced) == [f"calls.csv: {produced.record_count - 1} rows, the manifest "
                                                     f"says {produced.record_count}"]

    def test_a_calls_csv_that_is_not_utf8_is_named_whatever_its_header(self, produced):
        _restore(produced, "calls.csv", b"not,the,header\r\n" + _file(produced, "calls.csv") + b"\xff\r\n")
        assert package_output_problems(produced) == ["calls.csv: cannot be opened (UnicodeDecodeError)"]

    @pytest.mark.parametrize("where", [17, 0.5, -17])  # the first byte of content, the middle, the last before the tag
    def test_a_changed_byte_anywhere_in_a_stored_file_is_named(self, produced, where):
        stored = PackageFile.objects.get(package=produced, name="calls_etsi.xml")
        broken = bytearray(bytes(stored.content_enc))
        broken[int(len(broken) * where) if isinstance(where, float) else where] ^= 1
        PackageFile.objects.filter(pk=stored.pk).update(content_enc=bytes(broken))
        assert package_output_problems(produced) == ["calls_etsi.xml: cannot be decrypted"]

    def test_a_stored_hash_that_differs_is_named(self, produced):
        PackageFile.objects.filter(package=produced, name="calls.csv").update(sha256="0" * 64)
        assert package_output_problems(produced) == ["calls.csv: content differs from its stored SHA-256"]

    def test_verify_zip_counts_calls_json_a_line_at_a_time(self, produced):
        data = package_zip(produced)
        assert verify_zip(data) == []
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            files = {name: zf.read(name) for name in zf.namelist()}
        manifest = json.loads(files["manifest.json"])
        files["calls.json"] = json.dumps(json.loads(files["calls.json"])).encode()  # the same JSON, one line
        manifest["files"]["calls.json"] = {"sha256": hashlib.sha256(files["calls.json"]).hexdigest(),
                                           "size": len(files["calls.json"])}
        files["manifest.json"] = json.dumps(manifest).encode()
        # Sealed and signed anew by our key, the manifest matching: only the layout is left to find.
        assert verify_zip(zip_bytes(files)) == ["calls.json: not laid out as the package format writes it"]
