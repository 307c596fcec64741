"""The interconnection report's month is Amsterdam's by default (the invoices' months); staff may cut it in UTC
instead, as most carriers' statements are, to reconcile with one: on the page, in the CSV (its file name says
which cut) and in the API (`month_tz`). A call at 22:30 UTC on 31 March 2026 (00:30 on 1 April in Amsterdam,
summer time) is April's in Amsterdam and March's in UTC."""
from __future__ import annotations

import csv
import html
import io
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from tests.factories import make_cdr, make_source, verified_client
from traffic.models import Source
from traffic.selectors import interconnection as selectors
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

pytestmark = pytest.mark.django_db

FIRST_APRIL_0030 = datetime(2026, 3, 31, 22, 30, tzinfo=timezone.utc)  # 1 April 00:30 in Amsterdam
MID_MARCH = datetime(2026, 3, 15, 9, 0, tzinfo=timezone.utc)
PAGE = "/calls/staff/interconnection/"
API = "/api/v1/staff/interconnection/"


@pytest.fixture
def calls(alice):
    """Two calls of 60 s (€0.10) in mid-March and one of 30 s (€0.05) in the hour the two cuts disagree on."""
    kpn = make_source("pbx-kpn")
    Source.objects.filter(pk=kpn.pk).update(carrier="KPN trunk 1")
    for _ in range(2):
        make_cdr(account=alice, source=kpn, started_at=MID_MARCH, billsec=60, price=Decimal("0.10"))
    make_cdr(account=alice, source=kpn, started_at=FIRST_APRIL_0030, billsec=30, price=Decimal("0.05"))


def _report(actor, month: str, **zone) -> list[tuple]:
    rows = selectors.interconnection_report(actor=actor, month=selectors.parse_month(month), **zone)
    return [(r.calls, r.seconds, r.amount) for r in rows]


def _csv(client, query: str) -> tuple[str, list[list[str]]]:
    response = client.get(f"{PAGE}?{query}&format=csv")
    assert response.status_code == 200
    return (response["Content-Disposition"],
            list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()))))


class InterconnectionMonthZoneTests:
    def test_the_first_amsterdam_hour_of_april_is_aprils_by_default_and_marchs_in_utc(self, billing_staff, calls):
        assert _report(billing_staff, "2026-03") == [(2, 120, Decimal("0.20"))]
        assert _report(billing_staff, "2026-04") == [(1, 30, Decimal("0.05"))]
        assert _report(billing_staff, "2026-03", month_tz="amsterdam") == [(2, 120, Decimal("0.20"))]
        assert _report(billing_staff, "2026-03", month_tz="utc") == [(3, 150, Decimal("0.25"))]
        assert _report(billing_staff, "2026-04", month_tz="utc") == []

    def test_the_audit_entry_says_which_cut_and_nothing_personal(self, billing_staff, calls):
        _report(billing_staff, "2026-03", month_tz="utc")
        _report(billing_staff, "2026-03")
        entries = AuditEntry.objects.filter(action="interconnection.report").order_by("id")
        assert [(e.target_id, e.outcome, e.extra) for e in entries] == [
            ("2026-03-01", "ok", {"month_tz": "utc"}), ("2026-03-01", "ok", {"month_tz": "amsterdam"})]

    def test_an_unknown_zone_is_refused_at_its_field(self, billing_staff):
        with pytest.raises(ApplicationError) as refused:
            _report(billing_staff, "2026-03", month_tz="Europe/London")
        assert refused.value.extra == {"field": "month_tz"}
        assert not AuditEntry.objects.filter(action="interconnection.report").exists()

    def test_the_page_offers_the_choice_and_shows_each_cuts_totals(self, client, billing_staff, calls):
        verified_client(client, billing_staff)
        page = html.unescape(client.get(f"{PAGE}?month=2026-03").content.decode())
        assert '<label for="month_tz">Month\'s time zone</label>' in page
        assert '<option value="amsterdam" selected>Amsterdam (as invoiced)</option>' in page
        assert '<option value="utc">UTC (as most carriers\' statements)</option>' in page
        assert '<td class="num wide">2</td><td class="num">120</td><td class="num">€0.20</td></tr></tfoot>' in page
        page = html.unescape(client.get(f"{PAGE}?month=2026-03&month_tz=utc").content.decode())
        assert '<option value="utc" selected>' in page
        assert '<td class="num wide">3</td><td class="num">150</td><td class="num">€0.25</td></tr></tfoot>' in page
        assert "?month=2026-03&month_tz=utc&format=csv" in page  # the CSV link keeps the cut

    def test_the_page_answers_an_unknown_zone_with_400_at_its_field(self, client, billing_staff):
        verified_client(client, billing_staff)
        response = client.get(f"{PAGE}?month=2026-03&month_tz=cet")
        page = html.unescape(response.content.decode())
        assert response.status_code == 400
        assert 'aria-describedby="month_tz-error"' in page and 'id="month_tz-error"' in page
        assert "Choose Amsterdam or UTC as the month's time zone." in page

    def test_the_csv_names_its_cut_in_the_file_name_and_keeps_its_columns(self, client, billing_staff, calls):
        verified_client(client, billing_staff)
        disposition, rows = _csv(client, "month=2026-03")
        assert disposition == 'attachment; filename="interconnection-2026-03-amsterdam.csv"'
        assert rows == [["carrier", "source", "calls", "seconds", "amount_eur"], ["KPN trunk 1", "pbx-kpn", "2", "120",
                                                                                 "0.20"]]
        disposition, rows = _csv(client, "month=2026-03&month_tz=utc")
        assert disposition == 'attachment; filename="interconnection-2026-03-utc.csv"'
        assert rows[1] == ["KPN trunk 1", "pbx-kpn", "3", "150", "0.25"]

    def test_the_api_takes_the_zone_and_refuses_a_bad_one_naming_the_field(self, client, billing_staff, calls):
        verified_client(client, billing_staff)
        assert [r["calls"] for r in client.get(API, {"month": "2026-03"}).json()] == [2]
        assert [r["calls"] for r in client.get(API, {"month": "2026-03", "month_tz": "amsterdam"}).json()] == [2]
        assert [r["calls"] for r in client.get(API, {"month": "2026-03", "month_tz": "utc"}).json()] == [3]
        response = client.get(API, {"month": "2026-03", "month_tz": "UTC+1"})
        assert response.status_code == 400 and list(response.json()) == ["month_tz"]
        entries = AuditEntry.objects.filter(action="interconnection.report")
        assert sorted(e.extra["month_tz"] for e in entries) == ["amsterdam", "amsterdam", "utc"]

    def test_each_api_row_says_which_months_zone_it_counts(self, client, billing_staff, calls):
        """A carrier's reconciliation script reading the rows could not tell which cut answered (the default is
        Amsterdam's, their statement UTC's): each row now names it, as the CSV's file name does."""
        verified_client(client, billing_staff)
        assert [r["month_tz"] for r in client.get(API, {"month": "2026-03"}).json()] == ["amsterdam"]
        assert [r["month_tz"] for r in client.get(API, {"month": "2026-03", "month_tz": "utc"}).json()] == ["utc"]

    def test_the_openapi_schema_names_the_rows_zone(self, client, billing_staff):
        import yaml

        verified_client(client, billing_staff)
        schema = yaml.safe_load(client.get("/api/schema/").content)
        row = schema["components"]["schemas"]["InterconnectionRow"]
        assert "month_tz" in row["required"]
        zone = row["properties"]["month_tz"]
        if "$ref" in zone:  # drf-spectacular names a choice's enum once, as a component
            zone = schema["components"]["schemas"][zone["$ref"].rsplit("/", 1)[1]]
        elif "allOf" in zone:
            zone = schema["components"]["schemas"][zone["allOf"][0]["$ref"].rsplit("/", 1)[1]]
        assert zone["enum"] == ["amsterdam", "utc"]

    def test_the_choice_is_in_dutch_on_a_dutch_page(self, client, billing_staff):
        verified_client(client, billing_staff)
        client.cookies["django_language"] = "nl"
        page = html.unescape(client.get(f"{PAGE}?month=2026-03").content.decode())
        assert 'id="month_tz"' in page
        for english in ("Month's time zone", "Amsterdam (as invoiced)", "UTC (as most carriers' statements)"):
            assert english not in page
