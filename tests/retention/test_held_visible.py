"""PostgreSQL: after a month drop, the calls the purge kept in the hold table (a disputed invoice, a
legal hold) stay visible to their owner, exactly as before the drop: the itemised bill, the call
history and its pages, the CSV, the usage chart and the data-subject export. Nobody else sees them,
restricted copies follow the restriction, and a call kept only for a secret (disclosure) hold reads
like any other call: no page says why it is still there."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest

from retention.models import Category, HeldCdr
from retention.purge.run import purge_expired
from retention.services import legal_hold_place
from tests.accounts.dsr_helpers import access_export, export_json, export_json_valid, section
from tests.factories import make_cdr, verified_client
from tests.retention.helpers import at, make_invoice
from traffic.selectors import calls as selectors
from traffic.selectors import cdr_reader
from traffic.selectors.masking import MaskRule
from traffic.models import Cdr
from traffic.partitions import cdr_partitions_list_names
from voipxs.privacy.phone import mask
from voipxs.privacy.purposes import Purpose

PURGE_AT = at(2026, 8, 2)
# Anything that would tell the customer a call is kept for a hold (word-bounded: "threshold" is fine).
HOLD_WORDS = re.compile(r"\b(hold|holds|held|legal[ _-]hold)\b", re.IGNORECASE)


@pytest.fixture
def dropped(alice, bob, mallory, dpo):
    """Alice's January and March invoices are disputed (their windows have passed), February's is paid
    but still inside its window: the purge on 2 August drops January and March and keeps February, so
    her call history alternates between the hold table and traffic_cdr. Bob (Acme) has one disputed
    January call; Mallory's only January call is kept for a secret disclosure hold on her number."""
    jan = make_invoice(account=alice, period=date(2026, 1, 1), status="disputed", window_ends=date(2026, 8, 1))
    feb = make_invoice(account=alice, period=date(2026, 2, 1), status="paid", window_ends=date(2026, 9, 1))
    mar = make_invoice(account=alice, period=date(2026, 3, 1), status="disputed", window_ends=date(2026, 8, 1))
    bobs_jan = make_invoice(account=bob, period=date(2026, 1, 1), status="disputed", window_ends=date(2026, 8, 1))
    calls = {
        "jan_out": make_cdr(account=alice, src="+31205550101", dst="+31699993678", started_at=at(2026, 1, 10),
                            invoice=jan),
        "jan_in": make_cdr(account=alice, direction="in", src="+31699997321", dst="+31205550101",
                           caller_name="Opa Jansen", started_at=at(2026, 1, 11), invoice=jan),
        "jan_late": make_cdr(account=alice, src="+31205550101", dst="+31205552233", started_at=at(2026, 1, 12),
                             invoice=jan),
        "jan_free": make_cdr(account=alice, started_at=at(2026, 1, 13), rating="free"),  # expired: goes
        "feb_1": make_cdr(account=alice, dst="+31699991001", started_at=at(2026, 2, 3), invoice=feb),
        "feb_2": make_cdr(account=alice, dst="+31699991002", started_at=at(2026, 2, 4), invoice=feb),
        "mar_1": make_cdr(account=alice, dst="+31699994001", started_at=at(2026, 3, 5), invoice=mar),
        "mar_2": make_cdr(account=alice, dst="+31699994002", started_at=at(2026, 3, 6), invoice=mar),
        "jun": make_cdr(account=alice, dst="+31699995001", started_at=at(2026, 6, 20), rating="free"),
        "bob_jan": make_cdr(account=bob, src="+31205550201", dst="+31699996001", started_at=at(2026, 1, 14),
                            invoice=bobs_jan),
        "mallory_jan": make_cdr(account=mallory, src="+31205550999", dst="+31699998001", started_at=at(2026, 1, 15),
                                rating="free", caller_name="Mallory"),
    }
    legal_hold_place(reason="disclosure_request", reference="disclosure:12", owner="disclosure",
                     numbers=["+31205550999"], categories=[Category.CDR_BILLED, Category.CDR_UNBILLED],
                     window_start=at(2026, 1, 1), window_end=at(2026, 2, 1), starts_at=at(2026, 6, 1),
                     expires_at=at(2026, 12, 1), actor=dpo)
    purge_expired(now=PURGE_AT)
    names = cdr_partitions_list_names()
    assert "traffic_cdr_y2026m01" not in names and "traffic_cdr_y2026m03" not in names
    assert "traffic_cdr_y2026m02" in names
    held = {"jan_out", "jan_in", "jan_late", "mar_1", "mar_2", "bob_jan", "mallory_jan"}
    assert set(HeldCdr.objects.values_list("cdr_id", flat=True)) == {calls[k].id for k in held}
    assert not Cdr.objects.filter(id__in=[calls[k].id for k in held | {"jan_free"}]).exists()
    return {"calls": calls, "jan": jan, "feb": feb, "mar": mar}


def _ids(world, *names) -> list[int]:
    return [world["calls"][name].id for name in names]


ALICE_NEWEST_FIRST = ("jun", "mar_2", "mar_1", "feb_2", "feb_1", "jan_late", "jan_in", "jan_out")


def _body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def _all_pages(client, url: str, limit: int) -> list[dict]:
    rows, cursor = [], None
    while True:
        page = client.get(f"{url}?limit={limit}" + (f"&cursor={cursor}" if cursor else "")).json()
        rows += page["results"]
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


@pytest.mark.postgres
@pytest.mark.django_db
class HeldCallsVisibleTests:
    def test_it_shows_the_owner_the_itemised_bill_of_a_disputed_invoice_whose_month_was_dropped(self, client, alice,
                                                                                                 dropped):
        verified_client(client, alice)
        url = f"/calls/invoices/{dropped['jan'].pk}/"
        full = client.get(url + "?full=1").content.decode()
        assert "+31699993678" in full and "+31699997321" in full and "+31205552233" in full
        assert "Opa Jansen" in full and "No calls match." not in full
        masked = client.get(url).content.decode()
        assert mask("+31699993678") in masked and "+31699993678" not in masked and "Opa Jansen" not in masked
        api = client.get(f"/api/v1/me/calls/?invoice={dropped['jan'].pk}").json()
        assert [r["id"] for r in api["results"]] == _ids(dropped, "jan_late", "jan_in", "jan_out")
        incoming = next(r for r in api["results"] if r["id"] == dropped["calls"]["jan_in"].id)
        assert (incoming["own_number"], incoming["other_number"], incoming["caller_name"]) == (
            "+31205550101", "+31699997321", "Opa Jansen")
        assert incoming["price"] == "0.05000" and incoming["direction"] == "in"

    def test_it_pages_through_both_tables_returning_every_call_once_newest_first(self, client, alice, dropped):
        verified_client(client, alice)
        for limit in (1, 2, 3, 50):
            rows = _all_pages(client, "/api/v1/me/calls/", limit)
            assert [r["id"] for r in rows] == _ids(dropped, *ALICE_NEWEST_FIRST), limit
        by_id = {r["id"]: r for r in _all_pages(client, "/api/v1/me/calls/", 3)}
        assert by_id[dropped["calls"]["mar_1"].id]["other_number"] == "+31699994001"
        assert by_id[dropped["calls"]["feb_1"].id]["other_number"] == "+31699991001"
        # the HTML history follows the same cursor across the boundary
        first = client.get("/calls/?direction=out").content.decode()
        assert "+31699994002" in first and "+31699993678" in first and "+31699997321" not in first

    @pytest.mark.audit_guard_exempt("it compares the two statements below the selector, which audits the page's read")
    def test_the_own_history_reads_what_the_general_statement_reads(self, alice, dropped):
        """The unfiltered own history runs a statement compiled once (voipxs.statements): the same rows,
        both tables, every cursor, as the statement built for each request."""
        cdrs, held = selectors._sources(actor=alice, purpose=Purpose.SELF_SERVICE, account=None, contractor=None,
                                        region="NL")
        cursors = [None] + [(r[0][1], r[0][0]) for r in cdr_reader.calls_newest(
            cdrs, held, fields=selectors._ROW_FIELDS, after=None, n=100)]
        assert len(cursors) == len(ALICE_NEWEST_FIRST) + 1
        for cursor in cursors:
            for n in (1, 3, 100):
                general = cdr_reader.calls_newest(cdrs, held, fields=selectors._ROW_FIELDS, after=cursor, n=n)
                own = selectors._own_newest(alice, cursor, n=n, rule=MaskRule())
                # ... followed by what the masking list says of each row's other number (masking.masking_joined)
                assert [(values[:len(selectors._ROW_FIELDS)], copied) for values, copied in own] == general, (cursor, n)

    def test_it_applies_the_filters_to_the_kept_calls(self, client, alice, dropped):
        verified_client(client, alice)

        def ids(query: str) -> list[int]:
            return [r["id"] for r in client.get(f"/api/v1/me/calls/?{query}").json()["results"]]

        assert ids("number=0699997321") == _ids(dropped, "jan_in")
        assert ids("direction=in") == _ids(dropped, "jan_in")
        assert ids("since=2026-03-01&until=2026-03-31") == _ids(dropped, "mar_2", "mar_1")
        assert ids("since=2026-01-11&until=2026-02-03") == _ids(dropped, "feb_1", "jan_late", "jan_in")

    def test_it_shows_none_of_them_to_another_customer(self, client, alice, bob, mallory, acme_admin, dropped):
        verified_client(client, bob)
        assert [r["id"] for r in client.get("/api/v1/me/calls/").json()["results"]] == _ids(dropped, "bob_jan")
        assert client.get(f"/calls/invoices/{dropped['jan'].pk}/?full=1").status_code == 404
        assert client.get(f"/api/v1/me/calls/?invoice={dropped['jan'].pk}").json()["results"] == []
        assert "+31699993678" not in client.get("/calls/").content.decode()
        assert "+31699993678" not in _body(client.get("/api/v1/me/calls.csv"))
        client.logout()
        # Acme's admin sees its user's kept call, masked and without a caller name; not Alice's or Mallory's
        verified_client(client, acme_admin)
        rows = client.get("/api/v1/contractor/calls/").json()["results"]
        assert [(r["id"], r["other_number"]) for r in rows] == [(dropped["calls"]["bob_jan"].id, mask("+31699996001"))]

    def test_it_puts_them_in_the_csv_and_the_usage_chart(self, client, alice, dropped):
        verified_client(client, alice)
        body = _body(client.get("/calls/export.csv"))
        others = [row["other_number"].lstrip("'") for row in csv.DictReader(io.StringIO(body))]  # '+: not a formula
        assert others == ["+31699995001", "+31699994002", "+31699994001", "+31699991002", "+31699991001",
                          "+31205552233", "+31699997321", "+31699993678"]
        usage = selectors.cdr_usage_by_month(actor=alice, purpose=Purpose.SELF_SERVICE, months=12,
                                             today=date(2026, 8, 2))
        calls = {u.month: u.calls for u in usage}
        assert (calls[date(2026, 1, 1)], calls[date(2026, 2, 1)], calls[date(2026, 3, 1)]) == (3, 2, 2)
        assert {u.month: u.amount for u in usage}[date(2026, 1, 1)] == Decimal("0.15")

    def test_it_exports_them_to_the_data_subject_and_the_export_still_validates(self, alice, settings, tmp_path,
                                                                               django_capture_on_commit_callbacks,
                                                                               dropped):
        settings.PRIVATE_FILES_DIR = tmp_path
        data = export_json_valid(access_export(alice, django_capture_on_commit_callbacks))
        rows = section(data, "calls")["rows"]
        assert [r["id"] for r in rows] == _ids(dropped, *reversed(ALICE_NEWEST_FIRST))  # oldest first, merged
        incoming = next(r for r in rows if r["id"] == dropped["calls"]["jan_in"].id)
        assert (incoming["from"], incoming["to"], incoming["caller_name"]) == ("+31699997321", "+31205550101",
                                                                              "Opa Jansen")
        assert incoming["invoice"] == dropped["jan"].pk and incoming["restricted"] is False
        assert section(data, "calls")["count"] == 8

    def test_it_never_tells_the_customer_a_call_is_kept_for_a_secret_hold(self, client, mallory, settings, tmp_path,
                                                                         django_capture_on_commit_callbacks, dropped):
        from accounts.dsr.models import DataSubjectRequest, ExportFile
        from accounts.dsr.services import dsr_request_create

        verified_client(client, mallory)
        pages = {url: client.get(url) for url in ("/calls/", "/calls/?full=1", "/calls/usage/", "/calls/invoices/",
                                                  "/calls/export.csv", "/api/v1/me/calls/", "/api/v1/me/usage/",
                                                  "/api/v1/me/invoices/")}
        history = pages["/calls/"].content.decode()
        assert "+31699998001" in history and "Mallory" in history  # her own call, shown like any other
        for url, response in pages.items():
            assert response.status_code == 200, url
            body = _body(response)
            assert not HOLD_WORDS.search(body), (url, HOLD_WORDS.search(body))
        settings.PRIVATE_FILES_DIR = tmp_path
        with django_capture_on_commit_callbacks(execute=True):
            req = dsr_request_create(user=mallory, kind=DataSubjectRequest.Kind.ACCESS)
        calls = section(export_json(ExportFile.objects.get(request=req)), "calls")
        assert [r["to"] for r in calls["rows"]] == ["+31699998001"]
        assert not HOLD_WORDS.search(json.dumps(calls))

    def test_it_hides_restricted_copies_as_it_hides_restricted_calls(self, alice, legal1, dropped):
        HeldCdr.objects.filter(cdr_id=dropped["calls"]["jan_in"].id).update(restricted_at=PURGE_AT)
        mine = [r.id for r in selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows]
        assert dropped["calls"]["jan_in"].id not in mine and len(mine) == 7
        for_the_law = selectors.cdr_list(actor=legal1, purpose=Purpose.LEGAL_OBLIGATION, account=alice)
        assert [r.id for r in for_the_law.rows] == _ids(dropped, *ALICE_NEWEST_FIRST)

    def test_it_hides_the_copies_of_a_restricted_account_from_its_own_pages(self, alice, dropped):
        from accounts.dsr.services import dsr_restriction_apply

        dsr_restriction_apply(user=alice, actor=alice)
        alice.refresh_from_db()
        assert selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows == []

    def test_a_lifted_restriction_shows_the_copies_again_where_they_were(self, client, alice, dpo, dropped):
        from accounts.dsr.services import dsr_restriction_apply, dsr_restriction_lift

        def mine() -> list[int]:
            return [r.id for r in selectors.cdr_list(actor=alice, purpose=Purpose.SELF_SERVICE).rows]

        before = mine()
        assert before == _ids(dropped, *ALICE_NEWEST_FIRST)  # the January and March copies among them
        dsr_restriction_apply(user=alice, actor=dpo)
        assert mine() == []
        dsr_restriction_lift(user=alice, actor=dpo)
        assert mine() == before
        bill = verified_client(client, alice).get(f"/calls/invoices/{dropped['jan'].pk}/?full=1").content.decode()
        assert "+31699993678" in bill and "Opa Jansen" in bill

    @pytest.mark.audit_guard_exempt("it calls erasure's calls section alone; the erasure service that calls it "
                                     "(dsr_erasure_perform) records its purpose, dsr.erase")
    def test_erasure_restricts_the_copies_and_leaves_their_deletion_to_the_purge(self, alice, bob, dropped):
        from traffic.sections import calls_erase
        from voipxs.privacy.registry import Kept

        result = calls_erase(alice, [Kept(category="calls", reason="open invoice", legal_basis="Tw 11.5(2)")])
        # February's window has passed by the real clock: its calls and the free June call go; the five
        # copies stay (disputed invoices), restricted, until the purge finds nothing protecting them.
        assert result == {"deleted": 3, "restricted": 5, "kept": 5, "export_files": 0}
        assert not HeldCdr.objects.filter(account_id=alice.pk, restricted_at__isnull=True).exists()
        assert HeldCdr.objects.filter(account_id=alice.pk).count() == 5
        assert HeldCdr.objects.get(cdr_id=dropped["calls"]["bob_jan"].id).restricted_at is None


class KeptCopiesRegistrationTests:
    def test_retention_hands_traffic_its_hold_table_and_sqlite_pages_never_read_it(self, is_postgres):
        # traffic never imports retention (imports point down): without this registration the call
        # pages on PostgreSQL would silently lose every call of a dropped month.
        registered = cdr_reader.kept_copies_registered()
        assert registered is not None and registered.model is HeldCdr
        assert (cdr_reader.kept_copies() is not None) == is_postgres
