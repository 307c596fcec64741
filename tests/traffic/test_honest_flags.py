"""Honest flags (issue 11, item 5): what the importer could not read as it was is marked, never
dressed up. Text with bytes that were not UTF-8 is flagged; a dialled string that is no valid number is
kept as written and flagged, not stored as an E.164 number (nor priced as one); a SIP user name without
digits is an extension, not a withheld number. A file that is no CDR file is refused whole in the new
formats too (the rest of that item: traffic/importers/sniff.py, tests/traffic/test_import_bad_rows.py)."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import rest_framework

from traffic.importers.base import FLAG_INTERNAL_EXTENSION, FLAG_UNDECODABLE_TEXT
from traffic.importers.sniff import BINARY_KIND_REFUSAL
from traffic.ingest.rows import FLAG_ANONYMOUS, FLAG_BAD_NUMBER
from traffic.models import Cdr, Tariff
from traffic.services.imports import cdr_bulk_import
from traffic.services.sources import source_create
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import is_valid_e164

PNG = Path(rest_framework.__file__).parent / "static" / "rest_framework" / "img" / "grid.png"


def line(uid: str, *, src: str = "0205550101", dst: str | bytes = "0612345678",
         clid: bytes = b'"Jan" <0205550101>') -> bytes:
    dst = dst if isinstance(dst, bytes) else dst.encode()
    return (b'"","' + src.encode() + b'","' + dst + b'","default","' + clid.replace(b'"', b'""') +
            b'","SIP/alice-0000001","SIP/kpn-0000002","Dial","SIP/kpn","2026-05-04 10:00:00",'
            b'"2026-05-04 10:00:05","2026-05-04 10:01:05",65,60,"ANSWERED","DOCUMENTATION","' + uid.encode() + b'",""\n')


@pytest.fixture
def pbx(db):
    Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.12"), valid_from=date(2020, 1, 1))
    Tariff.objects.create(prefix="319", zone="NL other", price_per_minute=Decimal("0.50"), valid_from=date(2020, 1, 1))
    return source_create(name="pbx-flags", format="asterisk-csv", timezone="Europe/Amsterdam")


def imported(source, *lines: bytes) -> dict[str, Cdr]:
    result = cdr_bulk_import(source=source, stream=io.BytesIO(b"".join(lines)), file_name="Master.csv")
    assert (result.status, result.imported) == ("done", len(lines))
    return {cdr.unique_id: cdr for cdr in Cdr.objects.filter(source=source)}


def flags(cdr: Cdr) -> set[str]:
    return set(filter(None, cdr.flags.split(",")))


class UndecodableTextTests:
    def test_a_caller_name_in_latin_1_is_flagged_and_a_clean_one_is_not(self, pbx, alice):
        rows = imported(pbx, line("1777881600.1", clid=b'"Jos\xe9 M\xfcller" <0205550101>'), line("1777881600.2"))
        assert FLAG_UNDECODABLE_TEXT in flags(rows["1777881600.1"])
        assert FLAG_UNDECODABLE_TEXT not in flags(rows["1777881600.2"])

    def test_a_number_with_a_byte_that_is_not_utf8_is_flagged(self, pbx, alice):
        rows = imported(pbx, line("1777881600.3", dst=b"06123\xff45678"))
        assert {FLAG_UNDECODABLE_TEXT, FLAG_BAD_NUMBER} <= flags(rows["1777881600.3"])


class DialledStringTests:
    @pytest.mark.parametrize("dialled", ["0991234567", "+31991234567", "*21*0612345678#", "06-12-34-56-7x8"[:-2] + "#"])
    def test_a_string_that_is_no_valid_number_is_kept_as_written_and_not_priced(self, pbx, alice, dialled):
        cdr = imported(pbx, line("1777881600.4", dst=dialled))["1777881600.4"]
        assert FLAG_BAD_NUMBER in flags(cdr)
        assert cdr.dst_index == blind_index(dialled, domain="phone")  # as written, never an E.164 form
        assert cdr.rating != "rated" and cdr.price is None or cdr.price == 0

    def test_a_valid_number_in_any_notation_is_stored_as_e164_and_priced(self, pbx, alice):
        cdr = imported(pbx, line("1777881600.5", dst="06-1234 5678"))["1777881600.5"]
        assert FLAG_BAD_NUMBER not in flags(cdr)
        assert cdr.dst_index == blind_index("+31612345678", domain="phone")
        assert (cdr.rating, cdr.price) == ("rated", Decimal("0.12000"))

    def test_validity_agrees_with_phonenumbers_for_numbers_of_a_possible_length(self):
        import random

        import phonenumbers

        rnd = random.Random(11)
        for code, low, high in (("31", 10**8, 10**9), ("44", 10**9, 10**10), ("49", 10**6, 10**11),
                                ("1", 10**9, 10**10), ("39", 10**5, 10**11)):
            for number in (f"+{code}{rnd.randrange(low, high)}" for _ in range(800)):
                parsed = phonenumbers.parse(number, None)
                if phonenumbers.is_possible_number(parsed):
                    assert is_valid_e164(number) == phonenumbers.is_valid_number(parsed), number


class SipUserNameTests:
    @pytest.mark.parametrize("caller", ["alice", "reception", "s", "front-desk"])
    def test_a_sip_user_name_without_digits_is_an_extension(self, pbx, alice, caller):
        cdr = imported(pbx, line("1777881600.6", src=caller, dst="0205550101"))["1777881600.6"]
        assert FLAG_INTERNAL_EXTENSION in flags(cdr) and FLAG_ANONYMOUS not in flags(cdr)
        assert cdr.direction == "internal" and cdr.account_id == alice.pk  # from an extension to alice's number

    @pytest.mark.parametrize("caller", ["anonymous", "Restricted", "", "unknown"])
    def test_a_withheld_caller_is_anonymous(self, pbx, alice, caller):
        cdr = imported(pbx, line("1777881600.7", src=caller, dst="0205550101"))["1777881600.7"]
        assert FLAG_ANONYMOUS in flags(cdr) and FLAG_INTERNAL_EXTENSION not in flags(cdr)


@pytest.mark.parametrize("fmt", ["freeswitch-xml", "kamailio-acc"])
def test_an_image_is_refused_whole_in_the_new_formats(db, fmt):
    source = source_create(name=f"png-{fmt}", format=fmt, timezone="UTC")
    refused = cdr_bulk_import(source=source, stream=io.BytesIO(PNG.read_bytes()), file_name="cdr")
    assert (refused.status, refused.imported, refused.error) == (
        "failed", 0, BINARY_KIND_REFUSAL.format(kind="a PNG image"))
