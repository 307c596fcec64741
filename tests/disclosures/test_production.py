from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from django.core.management import CommandError, call_command
from django.utils.timezone import now
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from accounts.models import PhoneNumber
from accounts.services.numbers import phone_number_assign
from disclosures.models import DisclosureRequest, Package, PackageDownload, Status
from disclosures.production import ScopeViolation, build_package, verify_zip
from disclosures.selectors import Row
from disclosures.services.authorities import authority_create, authority_verify
from disclosures.services.packages import disclosure_package_download
from tests.factories import make_cdr, make_user
from voipxs.privacy.crypto import blind_index

from .certificates import police_recipient
from .conftest import ALICE_NUMBER, OTHER, produce, receive, to_state

pytestmark = pytest.mark.django_db


def _zip(legal1, legal2, legal3, authority):
    """The package downloaded, and opened as the authority opens it: the ZIP (decrypted where it was encrypted)."""
    req = to_state(receive(legal1, authority), "checked", intake=legal1, approvers=[legal2, legal3])
    name, file = disclosure_package_download(actor=legal1, request=req)
    with file:
        data = file.read()
    if name.endswith(".p7m"):
        name, data = name.removesuffix(".p7m"), police_recipient().decrypt(data)
    return req, name, data


class PackageTests:
    def test_it_holds_the_scope_only_and_leaves_out_periods_the_number_was_not_ours(self, legal1, legal2, legal3, authority, alice):
        t = now()
        inside = make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=t - timedelta(days=2))
        incoming = make_cdr(src=OTHER, dst=ALICE_NUMBER, started_at=t - timedelta(days=3), direction="in")
        make_cdr(src="+31205551111", dst=OTHER, started_at=t - timedelta(days=2))  # other number
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=t - timedelta(days=40))  # outside window
        # alice's number was held by someone else before her period: that call is not ours to give.
        PhoneNumber.objects.filter(user=alice).update(valid_from=t - timedelta(days=10))
        make_cdr(src=ALICE_NUMBER, dst=OTHER, started_at=t - timedelta(days=15))
        req = to_state(receive(legal1, authority), "produced", intake=legal1, approvers=[legal2, legal3])
        package = Package.objects.get(request=req)
        assert package.record_count == 2
        ids = [r["record_id"] for r in json.loads(
            __import__("disclosures.production", fromlist=["package_files"]).package_files(package)["calls.json"])["records"]]
        assert sorted(ids) == sorted([inside.pk, incoming.pk])
        m = package.manifest
        assert m["legal_basis"] == "sv_126n" and m["approvers"] == sorted([legal2.pk, legal3.pk])
        assert set(m["files"]) == {"calls.csv", "calls.json", "calls_etsi.xml"}

    def test_files_are_encrypted_at_rest_and_the_zip_verifies(self, legal1, legal2, legal3, authority, alice, tmp_path):
        make_cdr(account=alice, src=ALICE_NUMBER, dst="=cmd|' /C calc'!A0", started_at=now() - timedelta(days=1))
        req, name, data = _zip(legal1, legal2, legal3, authority)
        for f in Package.objects.get(request=req).files.all():
            assert b"205550101" not in bytes(f.content_enc)
        zf = zipfile.ZipFile(io.BytesIO(data))
        assert sorted(zf.namelist()) == ["calls.csv", "calls.json", "calls_etsi.xml", "manifest.json"]
        assert b"'=cmd" in zf.read("calls.csv")  # formula neutralised
        xml = zf.read("calls_etsi.xml").decode()
        assert "<retainedDataMessage" in xml and "<partyNumber>+31205550101</partyNumber>" in xml
        assert PackageDownload.objects.filter(package__request=req, downloaded_by=legal1).count() == 1
        path = tmp_path / name
        path.write_bytes(data)
        out = io.StringIO()
        call_command("verify_package", str(path), stdout=out)
        assert "OK" in out.getvalue()

    def test_changing_one_byte_makes_verify_package_fail(self, legal1, legal2, legal3, authority, alice, tmp_path):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        _, _, data = _zip(legal1, legal2, legal3, authority)
        # Every byte position, one at a time (the package is small): none goes unnoticed.
        for pos in range(len(data)):
            tampered = bytearray(data)
            tampered[pos] ^= 0x01
            assert verify_zip(bytes(tampered)), f"byte {pos} changed unnoticed"
        zf = zipfile.ZipFile(io.BytesIO(data))
        files = {n: zf.read(n) for n in zf.namelist()}
        files["calls.csv"] = files["calls.csv"].replace(b"+3120", b"+3130", 1)
        from disclosures.production import zip_bytes
        path = tmp_path / "p.zip"
        path.write_bytes(zip_bytes(files))  # resealed archive, but the content differs from the manifest
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command("verify_package", str(path), stderr=err)
        assert "calls.csv" in err.getvalue()


class ScopeCheckTests:
    def test_an_out_of_scope_row_injected_before_sealing_fails_production(self, legal1, legal2, legal3, authority, alice, monkeypatch):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        stray = make_cdr(src="+31205551111", dst=OTHER, started_at=now() - timedelta(days=1))
        req = to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
        from disclosures import production, selectors

        real = selectors.disclosure_scope_rows

        def leaky(*, actor, request):
            scope, rows = real(actor=actor, request=request)
            return scope, rows + [Row(cdr_id=stray.pk, started_at=stray.started_at, answered_at=None, duration=1,
                                      billsec=1, direction="out", disposition="answered", src="x", dst="y",
                                      src_index=stray.src_index, dst_index=stray.dst_index, account_id=None)]

        monkeypatch.setattr(production, "disclosure_scope_rows", leaky)
        req = produce(legal1, req)
        assert req.status == Status.APPROVED
        assert "ScopeViolation" in req.production_error and str(stray.pk) in req.production_error
        assert not Package.objects.filter(request=req).exists()


@pytest.mark.django_db
class PropertyTests:
    @pytest.mark.audit_guard_exempt("each example runs in a savepoint that is rolled back, its audit entries with it")
    @hsettings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        calls=st.lists(st.tuples(st.sampled_from([ALICE_NUMBER, OTHER, "+31205551111", "+31205552222"]),
                                 st.sampled_from([ALICE_NUMBER, OTHER, "+31205551111", "+31205552222"]),
                                 st.integers(min_value=0, max_value=60 * 24 * 60)),
                       min_size=0, max_size=12),
        window_days=st.integers(min_value=1, max_value=59),
        target=st.sampled_from([ALICE_NUMBER, OTHER]),
        max_hits=st.none() | st.integers(min_value=1, max_value=12),
    )
    def test_every_row_matches_a_target_and_falls_in_the_window(self, django_db_blocker, calls, window_days, target,
                                                                 max_hits):
        """In every file that carries records (calls.json, calls.csv, calls_etsi.xml): each record has the target
        as a party and starts in the window, and there are no more of them than the authority's cap, the first in
        time order; the output check passes the package."""
        from django.db import transaction

        with django_db_blocker.unblock(), transaction.atomic():
            sid = transaction.savepoint()
            try:
                self._check(calls, window_days, target, max_hits)
            finally:
                transaction.savepoint_rollback(sid)

    def _check(self, calls, window_days, target, max_hits):
        from tests.disclosures.conftest import window

        from disclosures.models import AuthorityKind

        u = make_user("p-owner", numbers=[target])
        l1, l2, l3 = (make_user(f"p-legal{i}", roles=["legal_officer"]) for i in range(3))
        auth = authority_create(actor=l1, name="P", kind=AuthorityKind.POLICE, contact_phone="+31205559999")
        auth = authority_verify(actor=l2, authority=auth, note="n")
        t = now().replace(microsecond=0)
        for src, dst, minutes in calls:
            make_cdr(account=u, src=src, dst=dst, started_at=t - timedelta(minutes=minutes + 1))
        start, end = t - timedelta(days=window_days), t
        req = receive(l1, auth, numbers=[target], window=(start, end), max_hits=max_hits)
        req = to_state(req, "produced", intake=l1, approvers=[l2, l3])
        assert req.status == Status.PRODUCED
        from disclosures.production import package_files
        expected = sorted(t - timedelta(minutes=m + 1) for s, d, m in calls
                          if target in (s, d) and t - timedelta(minutes=m + 1) >= start)[:max_hits]
        for name, records in _file_records(package_files(req.package)).items():
            assert [started for _numbers, started in records] == expected, name
            for numbers, started in records:
                assert target in numbers and start <= started < end, name
        assert to_state(req, "checked", intake=l1, approvers=[l2, l3]).status == Status.CHECKED


def _file_records(files: dict[str, bytes]) -> dict[str, list[tuple[set[str], datetime]]]:
    """(party numbers, start) of every record of each file that carries records, read as its reader reads it."""
    import csv
    import xml.etree.ElementTree as ET

    from traffic.exports import neutralised_value

    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    rows = list(csv.DictReader(io.StringIO(files["calls.csv"].decode(), newline="")))
    xml = [r for r in ET.fromstring(files["calls_etsi.xml"]).iter() if r.tag.endswith("}ResponseRecord")]
    return {
        "calls.json": [({r["originating_party"], r["terminating_party"]}, utc(r["start_utc"]))
                       for r in json.loads(files["calls.json"])["records"]],
        "calls.csv": [({neutralised_value(r["originating_party"]), neutralised_value(r["terminating_party"])},
                       utc(r["start_utc"])) for r in rows],
        "calls_etsi.xml": [({e.text for e in r.iter() if e.tag.endswith("}partyNumber")},
                            datetime.strptime(next(e.text for e in r.iter() if e.tag.endswith("}startTime")),
                                              "%Y%m%d%H%M%SZ").replace(tzinfo=timezone.utc)) for r in xml],
    }


class UserDataTests:
    def test_a_126na_request_gets_subscriber_data_and_no_calls(self, legal1, legal2, legal3, authority, alice):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        req = receive(legal1, authority, basis="sv_126na", categories=["user_data"])
        req = to_state(req, "produced", intake=legal1, approvers=[legal2, legal3])
        from disclosures.production import package_files
        files = package_files(req.package)
        subscribers = json.loads(files["subscribers.json"])["subscribers"]
        assert [s["account_id"] for s in subscribers] == [alice.pk]
        assert subscribers[0]["numbers"][0]["number"] == ALICE_NUMBER
        assert json.loads(files["calls.json"])["records"] == []
        assert req.package.manifest["subscriber_count"] == 1 and req.package.record_count == 0
        req = to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3], checker=legal2)
        assert req.outcome == "full"  # subscriber data was handed over, so not "no data"
