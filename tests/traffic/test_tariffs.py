"""Tariffs for billing staff: list, add and end tariffs with validity dates, import a rate deck with a
preview of what changes before it is confirmed; every change audited; pending calls re-rated after it."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import make_cdr, verified_client
from traffic.models import Cdr, Tariff
from traffic.rate_deck import parse_rate_deck
from traffic.services import tariffs as tariff_services
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

JAN = date(2026, 1, 1)
JUNE = date(2026, 6, 1)
DECK = "prefix,description,rate,increments\n316,NL mobile,0.0450,1/1\n3120,Amsterdam,0.0100,60/60\n49,Germany,0.0300,30/6\n"


@pytest.fixture
def mobile(billing_staff) -> Tariff:
    return tariff_services.tariff_create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.06"),
                                         valid_from=JAN, actor=billing_staff)


@pytest.fixture
def amsterdam(billing_staff) -> Tariff:
    return tariff_services.tariff_create(prefix="3120", zone="Amsterdam", price_per_minute=Decimal("0.01"),
                                         valid_from=JAN, actor=billing_staff)


class RateDeckParseTests:
    def test_it_reads_prefix_description_rate_and_increments(self):
        rows, errors = parse_rate_deck(DECK)
        assert errors == []
        assert [(r.line, r.prefix, r.description, r.rate, r.increment_first, r.increment_next) for r in rows] == [
            (2, "316", "NL mobile", Decimal("0.0450"), 1, 1), (3, "3120", "Amsterdam", Decimal("0.0100"), 60, 60),
            (4, "49", "Germany", Decimal("0.0300"), 30, 6)]

    def test_a_dutch_spreadsheet_with_semicolons_and_decimal_commas_reads_too(self):
        rows, errors = parse_rate_deck("+316;NL mobiel;0,045;60\n0049;Duitsland;0,03;30/6\n")
        assert errors == [] and [(r.prefix, r.rate, r.increment_first, r.increment_next) for r in rows] == [
            ("316", Decimal("0.045"), 60, 60), ("49", Decimal("0.03"), 30, 6)]

    def test_every_broken_line_is_named_with_its_field(self):
        text = "31a,X,0.1,60/60\n32,,0.1,60/60\n33,Y,-1,60/60\n34,Z,0.1,sixty\n35,W,0.1\n36,V,0.1,60/60\n36,V,0.2,60/60\n"
        rows, errors = parse_rate_deck(text)
        assert [(e.line, e.field) for e in errors] == [(1, "prefix"), (2, "description"), (3, "rate"),
                                                      (4, "increments"), (5, "file"), (7, "prefix")]
        assert "line 6" in errors[-1].message and [r.prefix for r in rows] == ["36"]

    def test_an_empty_deck_is_refused(self):
        assert [e.field for e in parse_rate_deck("prefix,description,rate,increments\n")[1]] == ["file"]


class TariffServiceTests:
    def test_a_new_tariff_re_rates_the_calls_waiting_for_a_price(self, alice, billing_staff,
                                                                 django_capture_on_commit_callbacks):
        call = make_cdr(account=alice, dst="+31699993678", started_at=datetime(2026, 3, 2, 10, tzinfo=timezone.utc),
                        billsec=90, rating="unrated")
        with django_capture_on_commit_callbacks(execute=True):
            tariff_services.tariff_create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.06"),
                                          valid_from=JAN, actor=billing_staff)
        call.refresh_from_db()
        assert (call.rating, call.zone, call.price) == ("rated", "NL mobile", Decimal("0.12000"))  # 90 s -> 120 s
        entry = AuditEntry.objects.get(action="tariff.create")
        assert entry.extra == {"valid_from": "2026-01-01"}

    def test_ending_a_tariff_sets_its_last_day_and_is_audited(self, mobile, billing_staff):
        tariff_services.tariff_end(tariff=mobile, last_day=date(2026, 5, 31), actor=billing_staff)
        mobile.refresh_from_db()
        assert mobile.valid_to == date(2026, 5, 31)
        assert AuditEntry.objects.filter(action="tariff.end", target_id=str(mobile.pk)).exists()

    def test_a_tariff_cannot_end_before_it_starts_nor_be_extended(self, mobile, billing_staff):
        with pytest.raises(ApplicationError) as before:
            tariff_services.tariff_end(tariff=mobile, last_day=JAN - timedelta(days=1), actor=billing_staff)
        assert before.value.extra["field"] == "valid_to"
        tariff_services.tariff_end(tariff=mobile, last_day=date(2026, 5, 31), actor=billing_staff)
        with pytest.raises(ApplicationError, match="cannot be extended"):
            tariff_services.tariff_end(tariff=mobile, last_day=date(2026, 7, 1), actor=billing_staff)
        with pytest.raises(ApplicationError) as create:
            tariff_services.tariff_create(prefix="31", zone="NL", price_per_minute=Decimal("1"), valid_from=JUNE,
                                          valid_to=JAN, actor=billing_staff)
        assert create.value.extra["field"] == "valid_to"

    def test_a_rate_deck_plan_says_what_changes_and_apply_does_exactly_that(self, mobile, amsterdam, billing_staff):
        rows, _ = parse_rate_deck(DECK)
        plan = tariff_services.rate_deck_plan(rows=rows, valid_from=JUNE)
        assert plan.counts == {"new": 1, "price": 1, "unchanged": 1}
        assert {c.row.prefix: c.kind for c in plan.changes} == {"316": "price", "3120": "unchanged", "49": "new"}
        assert Tariff.objects.count() == 2  # a plan changes nothing
        tariff_services.rate_deck_apply(rows=rows, valid_from=JUNE, confirm=plan.digest, actor=billing_staff)
        mobile.refresh_from_db()
        assert mobile.valid_to == date(2026, 5, 31)
        new = Tariff.objects.get(prefix="316", valid_from=JUNE)
        assert (new.price_per_minute, new.increment_first, new.increment_next, new.valid_to) == (Decimal("0.045"), 1, 1, None)
        assert Tariff.objects.get(prefix="49").valid_from == JUNE and Tariff.objects.count() == 4
        entry = AuditEntry.objects.get(action="tariff.rate_deck")
        assert entry.extra["new"] == 1 and entry.extra["price"] == 1 and entry.extra["ended"] == [mobile.pk]

    def test_apply_refuses_a_deck_whose_tariffs_changed_after_the_preview(self, mobile, billing_staff):
        rows, _ = parse_rate_deck(DECK)
        plan = tariff_services.rate_deck_plan(rows=rows, valid_from=JUNE)
        tariff_services.tariff_end(tariff=mobile, last_day=date(2026, 3, 31), actor=billing_staff)
        with pytest.raises(ApplicationError) as exc:
            tariff_services.rate_deck_apply(rows=rows, valid_from=JUNE, confirm=plan.digest, actor=billing_staff)
        assert exc.value.extra["field"] == "confirm"
        assert not Tariff.objects.filter(valid_from=JUNE).exists()

    def test_a_deck_cannot_slip_under_a_tariff_that_starts_later(self, billing_staff):
        tariff_services.tariff_create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.05"),
                                      valid_from=date(2026, 9, 1), actor=billing_staff)
        with pytest.raises(ApplicationError) as exc:
            tariff_services.rate_deck_plan(rows=parse_rate_deck(DECK)[0], valid_from=JUNE)
        assert exc.value.extra["field"] == "valid_from"


class TariffApiTests:
    def test_only_billing_staff_reach_the_tariff_api(self, client, alice, legal1, dpo, admin_user):
        for user in (alice, legal1, dpo, admin_user):
            verified_client(client, user)
            assert client.get("/api/v1/staff/tariffs/").status_code == 403
            assert client.post("/api/v1/staff/tariffs/rate-deck/preview/", {"csv": DECK, "valid_from": "2026-06-01"}).status_code == 403
            client.logout()

    def test_billing_lists_adds_and_ends_tariffs(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        made = client.post("/api/v1/staff/tariffs/", {"prefix": "+49", "zone": "Germany", "price_per_minute": "0.03",
                                                      "valid_from": "2026-02-01", "increment_first": 30, "increment_next": 6},
                           content_type="application/json")
        assert made.status_code == 201 and made.json()["prefix"] == "49" and made.json()["valid_to"] is None
        listed = client.get("/api/v1/staff/tariffs/?prefix=31").json()
        assert [t["prefix"] for t in listed] == ["316"]
        ended = client.post(f"/api/v1/staff/tariffs/{mobile.pk}/end/", {"valid_to": "2026-04-30"},
                            content_type="application/json")
        assert ended.status_code == 200 and ended.json()["valid_to"] == "2026-04-30"
        assert [t["prefix"] for t in client.get("/api/v1/staff/tariffs/?on=2026-05-01").json()] == ["49"]

    def test_bad_input_is_a_400_naming_the_field(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        bad = client.post("/api/v1/staff/tariffs/", {"prefix": "31x", "zone": "NL", "price_per_minute": "-1",
                                                     "valid_from": "June"}, content_type="application/json")
        assert bad.status_code == 400 and {"prefix", "price_per_minute", "valid_from"} <= set(bad.json())
        early = client.post(f"/api/v1/staff/tariffs/{mobile.pk}/end/", {"valid_to": "2025-12-31"},
                            content_type="application/json")
        assert early.status_code == 400 and early.json()["field"] == "valid_to"
        assert client.post("/api/v1/staff/tariffs/999999/end/", {"valid_to": "2026-01-02"},
                           content_type="application/json").status_code == 404
        deck = client.post("/api/v1/staff/tariffs/rate-deck/preview/", {"csv": "31,NL,abc,60/60\n", "valid_from": "2026-06-01"})
        assert deck.status_code == 400 and deck.json()["field"] == "rate" and "Line 1" in deck.json()["detail"]

    def test_a_rate_deck_is_previewed_then_applied_with_the_previews_confirmation(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        upload = SimpleUploadedFile("deck.csv", DECK.encode(), content_type="text/csv")
        preview = client.post("/api/v1/staff/tariffs/rate-deck/preview/", {"file": upload, "valid_from": "2026-06-01"})
        assert preview.status_code == 200
        body = preview.json()
        assert body["counts"] == {"new": 2, "price": 1, "unchanged": 0}
        assert body["changes"][0] == {"kind": "price", "line": 2, "prefix": "316", "description": "NL mobile",
                                      "description_nl": None, "rate": "0.0450", "increments": "1/1", "current_tariff": mobile.pk,
                                      "current_rate": "0.06000", "current_increments": "60/60"}
        assert Tariff.objects.count() == 1
        wrong = client.post("/api/v1/staff/tariffs/rate-deck/apply/", {"csv": DECK, "valid_from": "2026-06-01", "confirm": "0" * 64})
        assert wrong.status_code == 400 and wrong.json()["field"] == "confirm" and Tariff.objects.count() == 1
        applied = client.post("/api/v1/staff/tariffs/rate-deck/apply/",
                              {"csv": DECK, "valid_from": "2026-06-01", "confirm": body["confirm"]})
        assert applied.status_code == 201 and applied.json()["counts"]["new"] == 2
        assert Tariff.objects.count() == 4


class TariffPageTests:
    def test_the_page_is_for_billing_only_and_linked_from_their_home(self, client, alice, legal1, billing_staff, mobile):
        for user in (alice, legal1):
            verified_client(client, user)
            assert client.get("/calls/staff/tariffs/").status_code == 403
            client.logout()
        verified_client(client, billing_staff)
        page = client.get("/calls/staff/tariffs/").content.decode()
        assert "NL mobile" in page and f"/calls/staff/tariffs/{mobile.pk}/end/" in page
        assert 'href="/calls/staff/tariffs/"' in client.get("/").content.decode()

    def test_adding_shows_what_will_happen_and_only_the_confirmation_adds(self, client, billing_staff):
        verified_client(client, billing_staff)
        data = {"prefix": "316", "zone": "NL mobile", "price_per_minute": "0.05", "setup_fee": "0",
                "increment_first": "60", "increment_next": "60", "valid_from": "2026-02-01"}
        confirm = client.post("/calls/staff/tariffs/", data)
        text = confirm.content.decode()
        assert confirm.status_code == 200 and "will price calls from" in text and "Yes, add this tariff" in text
        assert not Tariff.objects.exists()
        done = client.post("/calls/staff/tariffs/", {**data, "confirmed": "1"}, follow=True)
        assert "Tariff 316 NL mobile added" in done.content.decode()
        assert Tariff.objects.get().price_per_minute == Decimal("0.05")
        bad = client.post("/calls/staff/tariffs/", {**data, "prefix": "abc"})
        assert bad.status_code == 400 and Tariff.objects.count() == 1

    def test_ending_asks_for_confirmation_first(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        url = f"/calls/staff/tariffs/{mobile.pk}/end/"
        assert client.get(url).status_code == 200
        confirm = client.post(url, {"valid_to": "2026-05-31"}).content.decode()
        assert "up to and including" in confirm and "Yes, end this tariff" in confirm
        mobile.refresh_from_db()
        assert mobile.valid_to is None
        client.post(url, {"valid_to": "2026-05-31", "confirmed": "1"})
        mobile.refresh_from_db()
        assert mobile.valid_to == date(2026, 5, 31)
        assert client.post(url, {"valid_to": "2025-01-01", "confirmed": "1"}).status_code == 400

    def test_a_rate_deck_upload_previews_and_the_confirmation_applies(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        upload = SimpleUploadedFile("deck.csv", DECK.encode(), content_type="text/csv")
        preview = client.post("/calls/staff/tariffs/rate-deck/", {"file": upload, "valid_from": "2026-06-01"})
        text = preview.content.decode()
        assert preview.status_code == 200 and "2 new prefixes, 1 new prices" in text and "Yes, apply these 3 changes" in text
        assert Tariff.objects.count() == 1
        form = preview.context["confirm_form"]
        done = client.post("/calls/staff/tariffs/rate-deck/apply/", {
            "csv": form.initial["csv"], "valid_from": "2026-06-01", "confirm": form.initial["confirm"]}, follow=True)
        assert "Rate deck applied" in done.content.decode() and Tariff.objects.count() == 4

    def test_a_broken_deck_lists_its_lines_and_changes_nothing(self, client, billing_staff):
        verified_client(client, billing_staff)
        upload = SimpleUploadedFile("deck.csv", b"316,NL mobile,0.05,60/60\n49,Germany,x,60/60\n")
        page = client.post("/calls/staff/tariffs/rate-deck/", {"file": upload, "valid_from": "2026-06-01"})
        assert page.status_code == 400 and "The rate must be" in page.content.decode()
        assert "Yes, apply" not in page.content.decode() and "line" in page.content.decode().lower()
        assert not Tariff.objects.exists()

    def test_the_pages_speak_dutch(self, client, billing_staff, mobile):
        verified_client(client, billing_staff)
        client.cookies["django_language"] = "nl"
        page = client.get("/calls/staff/tariffs/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "Tarieven" in page and "Ratedeck importeren" in page and "Tarief toevoegen" in page
        confirm = client.post(f"/calls/staff/tariffs/{mobile.pk}/end/", {"valid_to": "2026-05-31"},
                              HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "Ja, dit tarief beëindigen" in confirm


class TariffAdminTests:
    def test_the_admin_list_shows_rates_as_money_not_raw_decimals(self, client, admin_user, mobile, billing_staff):
        tariff_services.tariff_create(prefix="49", zone="Germany", price_per_minute=Decimal("0.01235"),
                                      setup_fee=Decimal("0.05"), valid_from=JAN, actor=billing_staff)
        page = html.unescape(verified_client(client, admin_user).get("/admin/traffic/tariff/").content.decode())
        cells = re.findall(r'<td class="field-(?:price_per_minute|setup_fee)_shown">([^<]*)</td>', page)
        assert sorted(cells) == ["€0.0000", "€0.01235", "€0.0500", "€0.0600"]  # rates: four decimals, five if set
        assert ">Price per minute<" in page and "0.06000" not in page

    def test_an_admin_edit_goes_through_the_audited_service(self, client, admin_user, mobile):
        verified_client(client, admin_user)
        response = client.post(f"/admin/traffic/tariff/{mobile.pk}/change/", {
            "prefix": "316", "zone": "NL mobile", "price_per_minute": "0.06", "setup_fee": "0", "increment_first": "60",
            "increment_next": "60", "currency": "EUR", "valid_from": "2026-01-01", "valid_to": "2026-04-30"})
        assert response.status_code == 302
        mobile.refresh_from_db()
        assert mobile.valid_to == date(2026, 4, 30)
        assert AuditEntry.objects.get(action="tariff.admin_save").extra == {"created": False, "fields": ["valid_to"]}
        client.post(f"/admin/traffic/tariff/{mobile.pk}/delete/", {"post": "yes"})
        assert not Tariff.objects.exists() and AuditEntry.objects.filter(action="tariff.admin_delete").exists()
