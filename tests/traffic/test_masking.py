"""Issue 14 item 5: itemisation per Contractor (full / masked / none), the national masking list
(from the next billing period) and a caller's own request to be masked (Tw 11.4, Bude art. 4.2),
on the itemised bill (page and API), the contractor view and the CSV of an invoice's calls."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from accounts.services.users import contractor_itemisation_set, user_number_masking_set
from tests.factories import make_cdr, make_user, verified_client
from traffic.models import MaskedNumber
from traffic.services import invoices as invoicing
from traffic.services.masking import masking_list_import, masking_list_take_off
from voipxs.exceptions import ApplicationError
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
OTHER = "+31699991111"
OTHER_MASKED = "+31699991•••"
HELPLINE = "+318000113"  # 0800-0113, a helpline
# A change of itemised bills applies from the next billing period (LEGAL.md row 9): made in February, it is the
# setting of the March bills these tests read.
FEBRUARY = datetime(2026, 2, 12, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def acme_lists_free_numbers(acme):
    """The masking list's examples are helplines, which bills leave off unless the contract lists them: Acme's
    does, from February (a change in January), so these tests see how the list masks them."""
    contractor_itemisation_set(contractor=acme, itemisation="full", omit_free_numbers=False,
                               at=datetime(2026, 1, 15, tzinfo=timezone.utc))


@pytest.fixture
def bill(bob):
    """Bob (of Acme) called OTHER in March; his March invoice."""
    make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=T0, caller_name="Someone")
    return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]


def _bill_page(client, user, invoice, full=True) -> str:
    return verified_client(client, user).get(f"/calls/invoices/{invoice.pk}/" + ("?full=1" if full else "")
                                             ).content.decode()


def _bill_api(client, invoice) -> dict:
    return client.get("/api/v1/me/calls/", {"invoice": invoice.pk}).json()


def _bill_csv(client, invoice) -> str:
    response = client.get("/api/v1/me/calls.csv", {"invoice": invoice.pk})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def _contractor_view(client, admin) -> tuple[str, dict]:
    api = verified_client(client, admin)
    return api.get("/calls/contractor/").content.decode(), api.get("/api/v1/contractor/calls/").json()


class ItemisationTests:
    def test_full_shows_the_number_on_the_bill_page_api_and_csv(self, client, bob, bill):
        assert OTHER in _bill_page(client, bob, bill)
        assert _bill_api(client, bill)["results"][0]["other_number"] == OTHER
        assert OTHER in _bill_csv(client, bill)

    def test_full_still_masks_the_contractor_view(self, client, bob, acme_admin, bill):
        page, api = _contractor_view(client, acme_admin)
        assert OTHER_MASKED in page and OTHER not in page
        assert api["itemised"] is True and api["results"][0]["other_number"] == OTHER_MASKED

    def test_masked_hides_the_last_digits_even_when_the_user_asks_for_full(self, client, acme, bob, bill):
        contractor_itemisation_set(contractor=acme, itemisation="masked", at=FEBRUARY)
        page = _bill_page(client, bob, bill, full=True)
        assert OTHER_MASKED in page and OTHER not in page and "Someone" not in page
        assert "Show full numbers" not in page
        row = _bill_api(client, bill)["results"][0]
        assert row["other_number"] == OTHER_MASKED and row["masked"] is True
        csv = _bill_csv(client, bill)
        assert OTHER_MASKED in csv and OTHER not in csv

    def test_masked_masks_the_contractor_view(self, client, acme, bob, acme_admin, bill):
        contractor_itemisation_set(contractor=acme, itemisation="masked", at=FEBRUARY)
        page, api = _contractor_view(client, acme_admin)
        assert OTHER_MASKED in page and OTHER not in page
        assert api["results"][0]["other_number"] == OTHER_MASKED

    def test_none_shows_only_the_totals_everywhere(self, client, acme, bob, acme_admin, bill):
        contractor_itemisation_set(contractor=acme, itemisation="none", at=FEBRUARY)
        page = _bill_page(client, bob, bill)
        assert "+31699991" not in page and "only the totals" in page
        assert str(bill.total) in page  # the totals stay
        assert _bill_api(client, bill) == {"results": [], "next_cursor": None, "itemised": False}
        assert _bill_csv(client, bill).strip().splitlines() == [
            "started_at,direction,disposition,own_number,other_number,caller_name,duration_s,billsec,zone,price_eur,note"]
        client.logout()
        page, api = _contractor_view(client, acme_admin)
        assert "+31699991" not in page and "no calls are listed" in page
        assert api["results"] == [] and api["itemised"] is False

    def test_a_user_without_a_contractor_keeps_the_full_bill(self, client, alice, acme):
        # alice opted in to full itemised bills (tests/factories.py); a contractor's setting is not hers.
        contractor_itemisation_set(contractor=acme, itemisation="none", at=FEBRUARY)
        make_cdr(account=alice, dst=OTHER, started_at=T0)
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        assert OTHER in _bill_page(client, alice, invoice)

    def test_the_setting_is_audited_and_refuses_an_unknown_value(self, acme, admin_user):
        contractor_itemisation_set(contractor=acme, itemisation="masked", actor=admin_user)
        assert AuditEntry.objects.filter(action="contractor.itemisation", extra__to="masked").exists()
        with pytest.raises(ApplicationError) as error:
            contractor_itemisation_set(contractor=acme, itemisation="partly")
        assert error.value.extra["field"] == "itemisation"


@pytest.mark.usefixtures("acme_lists_free_numbers")
class MaskingListTests:
    @pytest.fixture
    def helpline_bill(self, bob):
        make_cdr(account=bob, src="+31205550201", dst=HELPLINE, started_at=T0)
        make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=T0)
        return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]

    def _list_before_march(self, billing_staff):
        added, valid_from = masking_list_import(actor=billing_staff, text="number\n0800 0113\n",
                                                at=datetime(2026, 2, 20, 12, tzinfo=timezone.utc))
        # 1 March at midnight in Amsterdam, the invoices' month
        assert added == 1 and valid_from == datetime(2026, 2, 28, 23, tzinfo=timezone.utc)

    def test_a_listed_number_is_masked_on_the_bill_api_csv_and_contractor_view(
            self, client, bob, acme_admin, billing_staff, helpline_bill):
        self._list_before_march(billing_staff)
        page = _bill_page(client, bob, helpline_bill, full=True)
        assert "+318000•••" in page and HELPLINE not in page and OTHER in page  # only the listed one
        others = sorted(r["other_number"] for r in _bill_api(client, helpline_bill)["results"])
        assert others == [OTHER, "+318000•••"]
        csv = _bill_csv(client, helpline_bill)
        assert HELPLINE not in csv and OTHER in csv
        client.logout()
        page, _api = _contractor_view(client, acme_admin)
        assert HELPLINE not in page and "+318000•••" in page

    def test_it_applies_from_the_next_billing_period_only(self, client, bob, billing_staff, helpline_bill):
        # Listed on 15 March: the March bill still shows it in full; an April call is masked.
        masking_list_import(actor=billing_staff, text="number\n+318000113\n",
                            at=datetime(2026, 3, 15, 12, tzinfo=timezone.utc))
        assert HELPLINE in _bill_page(client, bob, helpline_bill, full=True)
        make_cdr(account=bob, src="+31205550201", dst=HELPLINE, started_at=datetime(2026, 4, 2, 9, tzinfo=timezone.utc))
        april = invoicing.invoice_run(month=date(2026, 4, 1), today=date(2026, 5, 2))[0]
        page = _bill_page(client, bob, april, full=True)
        assert HELPLINE not in page and "+318000•••" in page

    def test_staff_import_and_export_it_as_csv_audited_without_numbers(self, client, billing_staff, bob):
        staff = verified_client(client, billing_staff)
        upload = staff.post("/calls/staff/masking-list/", {"file": _file("number\n0800-0113\n+31 800 0113\n")})
        assert upload.status_code == 302
        assert MaskedNumber.objects.count() == 1  # the same number twice is listed once
        assert "1 number on the list" in staff.get("/calls/staff/masking-list/").content.decode()
        exported = b"".join(staff.get("/calls/staff/masking-list/?format=csv").streaming_content).decode()
        assert exported.splitlines()[0] == "number,valid_from,valid_until" and "+318000113," in exported
        entries = AuditEntry.objects.filter(action__startswith="masking_list.")
        assert {"masking_list.import", "masking_list.export"} <= set(entries.values_list("action", flat=True))
        assert "8000113" not in str(list(entries.values_list("extra", flat=True)))

    def test_a_bad_file_is_a_400_naming_the_line_and_imports_nothing(self, client, billing_staff, bob):
        staff = verified_client(client, billing_staff)
        answer = staff.post("/calls/staff/masking-list/", {"file": _file("number\n+318000113\nnot a number\n")})
        assert answer.status_code == 400 and "Line 3" in answer.content.decode()
        assert MaskedNumber.objects.count() == 0
        assert staff.post("/calls/staff/masking-list/", {"file": _file("phone\n1\n")}).status_code == 400

    def test_only_billing_staff_reach_the_page(self, client, bob):
        assert verified_client(client, bob).get("/calls/staff/masking-list/").status_code == 403

    def test_the_export_is_refused_without_the_billing_purpose(self, bob):
        from django.core.exceptions import PermissionDenied

        from traffic.selectors.masking import masking_list_rows

        with pytest.raises(PermissionDenied):
            masking_list_rows(actor=bob)  # refused at the call, before any row is read


@pytest.mark.usefixtures("acme_lists_free_numbers")
class ShortNumberTests:
    """Helplines dialled as short numbers (113, 116 111) are on the list as dialled: a call logged to
    "113" is masked on the bill (it showed in full before, as only E.164 numbers could be listed)."""

    def test_a_listed_short_number_is_masked_on_the_bill_and_the_csv(self, client, bob, billing_staff):
        added, _since = masking_list_import(actor=billing_staff, text="number\n113\n116 111\n+31800-0113\n",
                                            at=datetime(2026, 2, 20, tzinfo=timezone.utc))
        assert added == 3
        make_cdr(account=bob, src="+31205550201", dst="113", started_at=T0)
        make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=T0)
        bill = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        page = _bill_page(client, bob, bill, full=True)
        assert ">113<" not in page and "•••" in page and OTHER in page
        assert sorted(r["other_number"] for r in _bill_api(client, bill)["results"]) == [OTHER, "•••"]
        exported = sorted(MaskedNumber.objects.values_list("number", flat=True))
        assert exported == ["+318000113", "113", "116111"]

    def test_a_short_number_is_taken_off_by_its_digits(self, billing_staff):
        masking_list_import(actor=billing_staff, text="number\n116111\n")
        taken, _since = masking_list_take_off(actor=billing_staff, text="116 111")
        assert taken == 1


@pytest.mark.usefixtures("acme_lists_free_numbers")
class TakeOffTests:
    """A number that leaves the national list is taken off (typed, confirmed): its calls from the next
    billing period on show in full; the calls made while it was listed stay masked, on old bills too."""

    def _listed_in_march_off_in_april(self, billing_staff):
        masking_list_import(actor=billing_staff, text="number\n0800 0113\n", at=datetime(2026, 2, 20, tzinfo=timezone.utc))
        return masking_list_take_off(actor=billing_staff, text="\n+31 800 0113\n",
                                     at=datetime(2026, 3, 20, 12, tzinfo=timezone.utc))

    def test_calls_while_listed_stay_masked_and_later_ones_show_in_full(self, client, bob, billing_staff):
        march = datetime(2026, 3, 10, 9, tzinfo=timezone.utc)
        make_cdr(account=bob, src="+31205550201", dst=HELPLINE, started_at=march)
        taken, since = self._listed_in_march_off_in_april(billing_staff)
        assert taken == 1 and since == datetime(2026, 3, 31, 22, tzinfo=timezone.utc)  # 1 April, Amsterdam (summer)
        make_cdr(account=bob, src="+31205550201", dst=HELPLINE, started_at=datetime(2026, 4, 2, 9, tzinfo=timezone.utc))
        march_bill = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        april_bill = invoicing.invoice_run(month=date(2026, 4, 1), today=date(2026, 5, 2))[0]
        page = _bill_page(client, bob, march_bill, full=True)
        assert HELPLINE not in page and "+318000•••" in page
        page = _bill_page(client, bob, april_bill, full=True)
        assert HELPLINE in page and "+318000•••" not in page

    def test_importing_it_again_masks_it_again(self, client, bob, billing_staff):
        self._listed_in_march_off_in_april(billing_staff)
        added, _since = masking_list_import(actor=billing_staff, text="number\n+318000113\n",
                                            at=datetime(2026, 4, 10, tzinfo=timezone.utc))
        assert added == 1 and MaskedNumber.objects.get().valid_until is None
        make_cdr(account=bob, src="+31205550201", dst=HELPLINE, started_at=datetime(2026, 4, 12, 9, tzinfo=timezone.utc))
        april_bill = invoicing.invoice_run(month=date(2026, 4, 1), today=date(2026, 5, 2))[0]
        assert HELPLINE not in _bill_page(client, bob, april_bill, full=True)

    def test_staff_confirm_first_and_a_number_not_listed_is_named_by_its_line(self, client, billing_staff, bob):
        masking_list_import(actor=billing_staff, text="number\n+318000113\n+31800432\n")
        staff = verified_client(client, billing_staff)
        wrong = staff.post("/calls/staff/masking-list/", {"numbers": "+318000113\n\n+31699993678\n"})
        assert wrong.status_code == 400 and "Line 3: this number is not on the masking list" in wrong.content.decode()
        assert 'aria-invalid="true"' in wrong.content.decode()
        asked = staff.post("/calls/staff/masking-list/", {"numbers": "+318000113\n"})
        body = asked.content.decode()
        assert asked.status_code == 200 and "Take 1 numbers off the masking list?" in body and "stay masked" in body
        assert not MaskedNumber.objects.filter(valid_until__isnull=False).exists()
        done = staff.post("/calls/staff/masking-list/", {"numbers": "+318000113\n", "confirm": "yes"}, follow=True)
        assert "1 numbers taken off the list" in done.content.decode()
        assert "1 number on the list" in done.content.decode()  # the other one
        assert MaskedNumber.objects.filter(valid_until__isnull=False).count() == 1
        entry = AuditEntry.objects.filter(action="masking_list.take_off").exclude(extra={}).get()  # beside the access record
        assert entry.extra["taken_off"] == 1 and "8000113" not in str(entry.extra)

    def test_the_messages_are_dutch_for_a_dutch_session(self, client, billing_staff, bob):
        answer = verified_client(client, billing_staff).post("/calls/staff/masking-list/", {"numbers": "not a number"},
                                                             HTTP_ACCEPT_LANGUAGE="nl")
        assert answer.status_code == 400 and "Regel 1: dit is geen telefoonnummer" in answer.content.decode()


class OwnRequestTests:
    def test_a_caller_who_asked_is_masked_on_other_peoples_bills_api_csv_and_contractor_view(
            self, client, bob, acme_admin):
        dora = make_user("dora", numbers=[OTHER])
        make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=T0)
        bill = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        verified_client(client, dora).post("/accounts/numbers/masking/", {"masked": "1"})
        dora.refresh_from_db()
        assert dora.number_masked is True
        client.logout()
        page = _bill_page(client, bob, bill, full=True)
        assert OTHER_MASKED in page and OTHER not in page
        assert _bill_api(client, bill)["results"][0]["other_number"] == OTHER_MASKED
        assert OTHER not in _bill_csv(client, bill)
        client.logout()
        page, _api = _contractor_view(client, acme_admin)
        assert OTHER not in page

    def test_the_callers_own_bill_still_shows_their_own_and_the_other_number(self, client, bob):
        dora = make_user("dora", numbers=[OTHER], itemisation="full")  # her own itemised bill, opted in
        user_number_masking_set(user=dora, masked=True)
        make_cdr(account=dora, src=OTHER, dst="+31205550201", started_at=T0)
        bill = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        page = _bill_page(client, dora, bill, full=True)
        assert OTHER in page and "+31205550201" in page

    def test_withdrawing_the_request_shows_the_number_again(self, client, bob, bill):
        dora = make_user("dora", numbers=[OTHER])
        user_number_masking_set(user=dora, masked=True)
        user_number_masking_set(user=dora, masked=False)
        assert OTHER in _bill_page(client, bob, bill, full=True)
        assert AuditEntry.objects.filter(action="user.number_masking").count() == 2

    def test_a_bad_value_is_a_400(self, client, bob):
        assert verified_client(client, bob).post("/accounts/numbers/masking/", {"masked": "yes"}).status_code == 400


def _file(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("list.csv", text.encode(), content_type="text/csv")


class ContractorAdminTests:
    def test_an_admin_sets_the_itemisation_through_the_service(self, client, admin_user, acme):
        answer = verified_client(client, admin_user).post(f"/admin/accounts/contractor/{acme.pk}/change/", {"name": "Acme BV",
                                                                                      "itemisation": "none"})
        assert answer.status_code == 302 and "/login/" not in answer["Location"]
        acme.refresh_from_db()
        assert acme.itemisation == "none"
        assert AuditEntry.objects.filter(action="contractor.itemisation", extra__to="none").exists()


class SearchOracleTests:
    """A search by number must not confirm a guess of a masked number's hidden digits."""

    def test_a_number_masked_at_its_holders_request_finds_nothing_like_a_wrong_guess(self, client, bob, bill):
        dora = make_user("dora", numbers=[OTHER])
        user_number_masking_set(user=dora, masked=True)
        api = verified_client(client, bob)
        right = api.get("/api/v1/me/calls/", {"invoice": bill.pk, "number": OTHER})
        wrong = api.get("/api/v1/me/calls/", {"invoice": bill.pk, "number": "+31699991112"})
        assert right.status_code == wrong.status_code == 200
        assert right.json() == wrong.json() == {"results": [], "next_cursor": None, "itemised": True}

    def test_a_contractor_that_masks_every_number_refuses_the_search(self, client, acme, bob, bill):
        contractor_itemisation_set(contractor=acme, itemisation="masked", at=FEBRUARY)
        answer = verified_client(client, bob).get("/api/v1/me/calls/", {"invoice": bill.pk, "number": OTHER})
        assert answer.status_code == 400 and answer.json()["field"] == "number"

    def test_without_masking_the_search_still_finds_the_call(self, client, bob, bill):
        found = verified_client(client, bob).get("/api/v1/me/calls/", {"invoice": bill.pk, "number": OTHER}).json()
        assert [r["other_number"] for r in found["results"]] == [OTHER]


class OwnHistoryTests:
    """The own call history (/calls/) masks as the bill does. On PostgreSQL its one read also brings what
    the list and the numbers' holders say of each call's stored number (traffic.selectors.calls
    `_with_masking`), so the page sends no masking query unless a number is stored as dialled."""

    def _page(self, client, user) -> tuple[str, list[str]]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            body = verified_client(client, user).get("/calls/").content.decode()
        runs = [q["sql"] for q in queries if not q["sql"].startswith(("PREPARE ", "SAVEPOINT", "RELEASE SAVEPOINT"))]
        return body, [q for q in runs if "traffic_maskednumber" in q or "voipxs_masking_" in q]

    def test_listed_numbers_and_numbers_whose_holder_asked_are_masked_from_their_time(self, client, bob,
                                                                                       billing_staff):
        masking_list_import(actor=billing_staff, text=f"number\n{HELPLINE}\n",
                            at=datetime(2026, 2, 20, tzinfo=timezone.utc))
        user_number_masking_set(user=make_user("dora", numbers=[OTHER]), masked=True)
        make_cdr(account=bob, src="+31205550201", dst=HELPLINE, started_at=T0)
        make_cdr(account=bob, src="+31205550201", dst=HELPLINE, started_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
        make_cdr(account=bob, direction="in", src=OTHER, dst="+31205550201", started_at=T0, caller_name="Dora")
        make_cdr(account=bob, src="+31205550201", dst="+31699994222", started_at=T0)
        body, masking_reads = self._page(client, bob)
        # March's call is masked; February's predates the listing and shows in full.
        assert body.count("+318000•••") == 1 and body.count('<span class="number">+318000113</span>') == 1
        assert OTHER_MASKED in body and OTHER not in body and "Dora" not in body
        assert "+31699994222" in body
        from django.db import connection
        if connection.vendor == "postgresql":
            assert masking_reads == []  # the calls' own read answered for every number

    def test_a_short_number_stored_as_dialled_is_looked_up_by_its_digits(self, client, bob, billing_staff):
        masking_list_import(actor=billing_staff, text="number\n116 111\n",
                            at=datetime(2026, 2, 20, tzinfo=timezone.utc))
        make_cdr(account=bob, src="+31205550201", dst="116 111", started_at=T0)  # as the switch logged it
        body, masking_reads = self._page(client, bob)
        assert "116 111" not in body and "•••" in body
        from django.db import connection
        if connection.vendor == "postgresql":  # its stored index is of "116 111", the list's of "116111"
            assert len(masking_reads) == 1
