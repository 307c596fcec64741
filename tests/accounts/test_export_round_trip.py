"""Portability (LEGAL.md section 5, row 27): the export validates against its JSON Schema and round-trips: each
section's CSV, read back by the rule the export writes it with (export_stream.csv_cell, read back by csv_text) and
the column types of the schema, holds the very rows and values of export.json."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from accounts.dsr.export_stream import csv_text
from accounts.dsr.models import DataSubjectRequest
from accounts.support.services import support_request_open
from tests.accounts.dsr_helpers import (
    access_export, delivered_disclosure, export_json_valid, export_schema, export_zip, section,
)
from tests.factories import make_cdr
from traffic.services import invoices as invoicing

pytestmark = pytest.mark.django_db
SCHEMA = export_schema()
# Caller-ID text is untrusted: formulas, their quoted forms, a leading apostrophe as Dutch names have, quotes,
# commas, line breaks and text outside ASCII all come back as they went in.
CALLER_NAMES = ["=HYPERLINK(\"http://x\")", "'=already quoted", "''=twice", "+31 6 lookalike", "-5", "@home",
                "'s-Hertogenbosch", "'", "Zoë \"Z\", ☎\nline two", "plain"]


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


def _types(section_name: str) -> dict[str, set[str]]:
    """The JSON types the schema allows for each column of a section (empty where it says nothing)."""
    ref = next((rule["then"]["properties"]["rows"]["items"]["$ref"] for rule in SCHEMA["$defs"]["section"]["allOf"]
                if rule["if"]["properties"]["name"]["const"] == section_name), None)
    if ref is None:
        return {}
    out = {}
    for column, spec in SCHEMA["$defs"][ref.rsplit("/", 1)[-1]]["properties"].items():
        spec = SCHEMA["$defs"][spec["$ref"].rsplit("/", 1)[-1]] if "$ref" in spec else spec
        options = spec.get("oneOf", [spec])
        found = set()
        for option in options:
            kind = option.get("type", "string" if "enum" in option or "const" in option else None)
            found |= set(kind) if isinstance(kind, list) else {kind} if kind else set()
        out[column] = found
    return out


_JSON_TYPES = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
               dict: "object"}


def _read(cell: str, types: set[str]):
    """A CSV cell back to its JSON value, by the column's types (the schema's; the value's own where it has none):
    empty is null where null is allowed, true/false a boolean, a list or an object its JSON, and text what the
    export's CSV rule wrote it as (export_stream.csv_text)."""
    if cell == "" and "null" in types:
        return None
    if "integer" in types and cell.lstrip("-").isdigit():
        return int(cell)
    if "number" in types and cell and cell != "true" and cell != "false":
        return float(cell)
    if "boolean" in types and cell in ("true", "false"):
        return cell == "true"
    if types & {"array", "object"} and cell[:1] in ("[", "{"):
        return json.loads(cell)
    return csv_text(cell)


class ExportRoundTripTests:
    def test_every_section_s_csv_holds_the_json_rows_and_the_json_its_schema(
            self, alice, legal1, support, django_capture_on_commit_callbacks):
        for i, name in enumerate(CALLER_NAMES):
            make_cdr(account=alice, started_at=datetime(2026, 3, 2 + i, 9, tzinfo=timezone.utc), caller_name=name,
                     dst=f"+3169999{i:04d}", billsec=60 + i, price=Decimal("0.05") * (i + 1))
        make_cdr(account=alice, started_at=datetime(2026, 3, 20, 9, tzinfo=timezone.utc), disposition="no answer",
                 billsec=0, rating="unrated")
        [invoice] = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))
        delivered_disclosure(user=alice, officer=legal1, reference="TOLD-1", secrecy_days=None)
        # A request made through a representative, whose name a spreadsheet would take for a formula.
        support_request_open(actor=support, user=alice, kind="restriction", representative_kind="power_of_attorney",
                             representative_name=CALLER_NAMES[0], authority_checked=True)
        export = access_export(alice, django_capture_on_commit_callbacks, kind=DataSubjectRequest.Kind.PORTABILITY)

        data = export_json_valid(export)
        zf = export_zip(export)
        compared = {}
        for part in data["sections"]:
            lines = list(csv.reader(io.StringIO(zf.read(f"{part['name']}.csv").decode("utf-8"))))
            rows, typed = part["rows"], _types(part["name"])
            assert part["count"] == len(rows) and len(lines) == (len(rows) + 1 if rows else 0), part["name"]
            if rows:
                assert lines[0] == list(rows[0]), part["name"]
            for row, line in zip(rows, lines[1:]):
                assert set(row) == set(lines[0]), part["name"]  # no column only the JSON has
                back = {c: _read(cell, typed.get(c) or {_JSON_TYPES[type(row[c])]}) for c, cell in zip(lines[0], line)}
                assert back == row, part["name"]
            compared[part["name"]] = len(rows)
        assert compared["calls"] == len(CALLER_NAMES) + 1 and compared["invoices"] == 1
        assert {"profile", "numbers", "requests", "disclosures"} <= {k for k, n in compared.items() if n}
        names = [c["caller_name"] for c in section(data, "calls")["rows"]]
        assert set(CALLER_NAMES) <= set(names)
        assert section(data, "invoices")["rows"][0]["number"] == invoice.number
        agents = [r for r in section(data, "requests")["rows"] if r["through_representative"]]
        assert [(r["representative_kind"], r["representative_name"]) for r in agents] == [
            ("power_of_attorney", CALLER_NAMES[0])]
