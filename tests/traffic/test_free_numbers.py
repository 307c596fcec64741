"""LEGAL.md row 9: an itemised bill may leave off calls to free and helpline numbers (0800 and +800 freephone,
112, 113, the 116 xxx helplines), per Contractor and per individual User, on by default (GDPR art. 25; the
privacy policy promises nothing else). Left off the bill page, the API and the CSV of an invoice's calls and the
contractor's view; they still count in the invoice's lines and totals (the invoice and its PDF name no number).
Only a call that cost nothing is left off: one the customer paid for (another country's freephone number, which
our tariffs price) is listed, so every charge the invoice totals can be checked on the bill.

A change of the setting applies from the next billing period, and a billing period is an invoice's: a calendar
month in Amsterdam's time (voipxs.timeutil.month_bounds), for the itemisation setting and the masking list alike,
also in a month's first hour or two, which in UTC are still the month before's."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from accounts.selectors import next_billing_period
from accounts.services.users import contractor_itemisation_set, user_itemisation_set
from tests.factories import make_cdr, make_user, verified_client
from traffic.models import Cdr
from traffic.rating import TariffBook, TariffRule
from traffic.services import invoices as invoicing
from traffic.services.masking import masking_list_import
from voipxs.privacy.phone import is_free_or_helpline

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
OTHER = "+31699991111"
FREEPHONE, HELPLINE_116, SUICIDE_LINE, INTERNATIONAL_FREEPHONE = "+318007654", "116111", "113", "+80012345678"
FREE = (FREEPHONE, HELPLINE_116, SUICIDE_LINE, INTERNATIONAL_FREEPHONE)


def _calls(account, src: str) -> None:
    make_cdr(account=account, src=src, dst=OTHER, started_at=T0, price=Decimal("0.50"))
    for number in FREE:
        make_cdr(account=account, src=src, dst=number, started_at=T0, price=Decimal("0"), zone="NL free")


def _bill(client, invoice) -> tuple[str, list[str], str]:
    page = client.get(f"/calls/invoices/{invoice.pk}/?full=1").content.decode()
    api = [r["other_number"] for r in client.get("/api/v1/me/calls/", {"invoice": invoice.pk}).json()["results"]]
    csv = b"".join(client.get("/api/v1/me/calls.csv", {"invoice": invoice.pk}).streaming_content).decode()
    return page, api, csv


def _listed(text: str) -> list[str]:
    """The free numbers a page or CSV shows (a short number as a cell of its own: "113" is in the notice text)."""
    return [n for n in FREE if (n in text if n.startswith("+") else f">{n}<" in text or f",{n}," in text)]


@pytest.fixture
def bobs_bill(bob):
    """Bob (of Acme, itemised in full) called one ordinary number and four free ones in March."""
    _calls(bob, "+31205550201")
    return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]


class ClassificationTests:
    @pytest.mark.parametrize("number", ["+318007654", "0800 0113", "+318000113", "+80012345678", "+448001111",
                                        "116111", "116 123", "113", "112"])
    def test_freephone_and_helplines_are_known(self, number):
        assert is_free_or_helpline(number)

    @pytest.mark.parametrize("number", ["+31205550199", "+31699991234", "+319001234", "1400", "14020", "alice", ""])
    def test_ordinary_premium_and_information_numbers_are_not(self, number):
        assert not is_free_or_helpline(number)


class OmittedByDefaultTests:
    def test_the_bill_page_api_and_csv_leave_them_off_and_say_so(self, client, bob, bobs_bill):
        page, api, csv = _bill(verified_client(client, bob), bobs_bill)
        assert api == [OTHER] and OTHER in page and OTHER in csv
        assert _listed(page) == [] and _listed(csv) == []
        assert ("Calls that cost nothing to free and helpline numbers (such as 0800, 112, 113 and 116 numbers) "
                "are not listed here") in page and "Every call you pay for is listed." in page

    def test_they_still_count_in_the_lines_and_totals(self, client, bob, bobs_bill):
        lines = {line.zone: line.calls for line in bobs_bill.lines.all()}
        assert lines == {"NL mobile": 1, "NL free": 4} and bobs_bill.subtotal == Decimal("0.50")
        page = verified_client(client, bob).get(f"/calls/invoices/{bobs_bill.pk}/").content.decode()
        assert '<td class="num wide">4</td>' in page

    def test_the_pdf_counts_them_and_names_no_number(self, client, bob, bobs_bill):
        response = verified_client(client, bob).get(f"/calls/invoices/{bobs_bill.pk}/pdf/")
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        assert "NL free" in text and "800" not in text and "116" not in text and OTHER not in text

    def test_the_contractor_view_leaves_them_off(self, client, acme_admin, bobs_bill):
        api = verified_client(client, acme_admin).get("/api/v1/contractor/calls/").json()
        assert [r["other_number"] for r in api["results"]] == ["+31699991•••"]

    def test_an_individual_bill_leaves_them_off_too(self, client):
        dora = make_user("dora", numbers=["+31205550301"], itemisation="full")
        _calls(dora, "+31205550301")
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        assert _bill(verified_client(client, dora), invoice)[1] == [OTHER]


class ListedOnRequestTests:
    def test_a_contractor_that_lists_them_sees_them_from_the_next_period(self, client, acme, bob, bobs_bill):
        contractor_itemisation_set(contractor=acme, itemisation="full", omit_free_numbers=False,
                                   at=datetime(2026, 2, 20, tzinfo=timezone.utc))  # applies to March
        page, api, csv = _bill(verified_client(client, bob), bobs_bill)
        assert sorted(api) == sorted([OTHER, *FREE])
        assert sorted(_listed(page)) == sorted(FREE) and sorted(_listed(csv)) == sorted(FREE)
        assert "are not listed here" not in page

    def test_an_individual_who_lists_them_sees_them(self, client):
        dora = make_user("dora", numbers=["+31205550301"], itemisation="full", omit_free_numbers=False)
        _calls(dora, "+31205550301")
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        assert sorted(_bill(verified_client(client, dora), invoice)[1]) == sorted([OTHER, *FREE])

    def test_the_portal_choice_lists_them_and_leaving_the_box_unticked_leaves_them_off(self, client):
        dora = make_user("dora", numbers=["+31205550301"], itemisation="full")
        c = verified_client(client, dora)
        c.post("/accounts/numbers/itemisation/", {"itemisation": "full", "list_free_numbers": "on"})
        dora.refresh_from_db()
        assert dora.omit_free_numbers is False
        c.post("/accounts/numbers/itemisation/", {"itemisation": "full"})
        dora.refresh_from_db()
        assert dora.omit_free_numbers is True


# A UK freephone number (Ofcom's drama range 08081 570xxx, tests/synthetic_numbers.py): toll free to
# phonenumbers, so `is_free_or_helpline` calls it free, but only NL 0800 is rated 0 (traffic.rating.FREEPHONE):
# called from the Netherlands it is priced by the tariff table's +44 tariff.
UK_FREEPHONE = "+448081570123"
UK_FREEPHONE_MASKED = "+448081570•••"


class ChargedFreeNumberTests:
    """A call to a free number that cost the customer something is listed on the itemised bill."""

    @pytest.fixture
    def bobs_bill(self, bob):
        """Bob (of Acme: itemised in full, free numbers left off, the default) called an ordinary number, a UK
        freephone number (charged EUR 0.05), a Dutch 0800 number (free) and a helpline (not priced) in March."""
        make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=T0, price=Decimal("0.50"))
        make_cdr(account=bob, src="+31205550201", dst=UK_FREEPHONE, started_at=T0, price=Decimal("0.05"), zone="UK")
        make_cdr(account=bob, src="+31205550201", dst=FREEPHONE, started_at=T0, price=Decimal("0"), zone="NL free")
        unpriced = make_cdr(account=bob, src="+31205550201", dst=HELPLINE_116, started_at=T0, zone="NL free")
        Cdr.objects.filter(pk=unpriced.pk).update(price=None)
        return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]

    def test_rating_charges_what_the_bill_rule_calls_free(self):
        book = TariffBook([TariffRule(1, "44", "UK", Decimal("0.05"), Decimal("0"), 60, 60, date(2020, 1, 1), None)])
        rule = book.tariff_for(UK_FREEPHONE, date(2026, 3, 10))
        assert book.price(rule, 60)[0] == Decimal("0.05") and is_free_or_helpline(UK_FREEPHONE)
        assert book.price(book.tariff_for(FREEPHONE, date(2026, 3, 10)), 60)[0] == 0

    def test_the_charged_call_is_on_the_bill_page_api_and_csv_and_the_free_ones_are_not(self, client, bob, bobs_bill):
        page, api, csv = _bill(verified_client(client, bob), bobs_bill)
        assert sorted(api) == sorted([OTHER, UK_FREEPHONE])
        assert UK_FREEPHONE in page and UK_FREEPHONE in csv and OTHER in page and OTHER in csv
        assert _listed(page) == [] and _listed(csv) == []

    def test_its_price_is_shown_where_it_is_listed(self, client, bob, bobs_bill):
        c = verified_client(client, bob)
        rows = {r["other_number"]: r for r in c.get("/api/v1/me/calls/", {"invoice": bobs_bill.pk}).json()["results"]}
        assert Decimal(str(rows[UK_FREEPHONE]["price"])) == Decimal("0.05")

    def test_the_totals_are_unchanged(self, bobs_bill):
        lines = {line.zone: (line.calls, line.amount) for line in bobs_bill.lines.all()}
        assert lines == {"NL mobile": (1, Decimal("0.50")), "UK": (1, Decimal("0.05")), "NL free": (2, Decimal("0"))}
        assert bobs_bill.subtotal == Decimal("0.55")

    def test_the_contractor_view_lists_it_masked(self, client, acme_admin, bobs_bill):
        api = verified_client(client, acme_admin).get("/api/v1/contractor/calls/").json()
        assert sorted(r["other_number"] for r in api["results"]) == sorted(["+31699991•••", UK_FREEPHONE_MASKED])

    def test_an_individual_bill_lists_it_too(self, client):
        dora = make_user("dora", numbers=["+31205550301"], itemisation="full")
        make_cdr(account=dora, src="+31205550301", dst=UK_FREEPHONE, started_at=T0, price=Decimal("0.05"), zone="UK")
        make_cdr(account=dora, src="+31205550301", dst=FREEPHONE, started_at=T0, price=Decimal("0"), zone="NL free")
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        assert _bill(verified_client(client, dora), invoice)[1] == [UK_FREEPHONE]

    def test_an_incoming_call_from_a_free_number_that_cost_nothing_is_left_off(self, client, bob):
        make_cdr(account=bob, src=UK_FREEPHONE, dst="+31205550201", direction="in", started_at=T0,
                 price=Decimal("0"), zone="incoming")
        make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=T0, price=Decimal("0.50"))
        invoice = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        assert _bill(verified_client(client, bob), invoice)[1] == [OTHER]


AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# The invoices' month is Amsterdam's: half past midnight on 1 March there (23:30 UTC on 28 February) is March, and
# half past eleven on 28 February there (22:30 UTC) is still February.
LAST_HOUR_OF_FEBRUARY_IN_AMSTERDAM = datetime(2026, 2, 28, 23, 30, tzinfo=AMSTERDAM)
FIRST_HOUR_OF_MARCH_IN_AMSTERDAM = datetime(2026, 3, 1, 0, 30, tzinfo=AMSTERDAM)


class BillingPeriodBoundaryTests:
    """A change applies from the billing period after the one it was made in, reckoned as the invoices are: in
    Amsterdam's months."""

    def test_the_billing_period_is_amsterdams_month(self):
        assert FIRST_HOUR_OF_MARCH_IN_AMSTERDAM.astimezone(timezone.utc) == datetime(2026, 2, 28, 23, 30,
                                                                                     tzinfo=timezone.utc)
        assert next_billing_period(LAST_HOUR_OF_FEBRUARY_IN_AMSTERDAM) == date(2026, 3, 1)
        assert next_billing_period(FIRST_HOUR_OF_MARCH_IN_AMSTERDAM) == date(2026, 4, 1)
        from traffic.services.masking import next_billing_period as masked_from

        # a number listed then is masked from April's first moment in Amsterdam (summer time: 22:00 UTC on 31 March)
        assert masked_from(FIRST_HOUR_OF_MARCH_IN_AMSTERDAM) == datetime(2026, 3, 31, 22, tzinfo=timezone.utc)

    @pytest.mark.parametrize(("asked_at", "listed_in_march"), [(LAST_HOUR_OF_FEBRUARY_IN_AMSTERDAM, True),
                                                               (FIRST_HOUR_OF_MARCH_IN_AMSTERDAM, False)])
    def test_a_contractors_change_in_februarys_last_hour_applies_to_marchs_whole_invoice(
            self, client, acme, bob, asked_at, listed_in_march):
        _calls(bob, "+31205550201")
        february_call = datetime(2026, 2, 28, 22, 45, tzinfo=timezone.utc)  # 23:45 on 28 February in Amsterdam
        march_call = datetime(2026, 2, 28, 23, 45, tzinfo=timezone.utc)  # 00:45 on 1 March in Amsterdam
        for started_at, number in ((february_call, FREEPHONE), (march_call, INTERNATIONAL_FREEPHONE)):
            make_cdr(account=bob, src="+31205550201", dst=number, started_at=started_at, price=Decimal("0"),
                     zone="NL free")
        february = invoicing.invoice_run(month=date(2026, 2, 1), today=date(2026, 3, 2))[0]
        march = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        contractor_itemisation_set(contractor=acme, itemisation="full", omit_free_numbers=False, at=asked_at)
        c = verified_client(client, bob)
        assert _bill(c, february)[1] == []  # asked in February at the earliest: February's bill keeps its setting
        # March's bill, its first Amsterdam hour included (the call at 00:45), follows the change or does not
        assert sorted(_bill(c, march)[1]) == (sorted([OTHER, *FREE, INTERNATIONAL_FREEPHONE]) if listed_in_march
                                              else [OTHER])

    def test_an_individuals_change_in_februarys_last_hour_applies_to_marchs_invoice(self, client):
        dora = make_user("dora", numbers=["+31205550301"], itemisation="full")
        user_itemisation_set(user=dora, itemisation="full", omit_free_numbers=False,
                             at=LAST_HOUR_OF_FEBRUARY_IN_AMSTERDAM)
        _calls(dora, "+31205550301")
        march = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        assert sorted(_bill(verified_client(client, dora), march)[1]) == sorted([OTHER, *FREE])

    def test_a_number_listed_in_februarys_last_hour_is_masked_on_marchs_invoice(self, client, bob, billing_staff):
        added, valid_from = masking_list_import(actor=billing_staff, text=f"number\n{OTHER}\n",
                                                at=LAST_HOUR_OF_FEBRUARY_IN_AMSTERDAM)
        assert added == 1 and valid_from == datetime(2026, 2, 28, 23, tzinfo=timezone.utc)  # 1 March, Amsterdam
        make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
        march = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        assert _bill(verified_client(client, bob), march)[1] == ["+31699991•••"]

    def test_a_number_listed_in_february_shows_in_full_on_the_whole_february_invoice(
            self, client, bob, billing_staff):
        masking_list_import(actor=billing_staff, text=f"number\n{OTHER}\n",
                            at=datetime(2026, 2, 15, 12, tzinfo=timezone.utc))
        last_hour = datetime(2026, 2, 28, 22, 30, tzinfo=timezone.utc)  # 23:30 on 28 February in Amsterdam
        make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=last_hour)
        first_hour = datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc)  # 00:30 on 1 March in Amsterdam
        make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=first_hour)
        february = invoicing.invoice_run(month=date(2026, 2, 1), today=date(2026, 3, 2))[0]
        march = invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]
        c = verified_client(client, bob)
        assert _bill(c, february)[1] == [OTHER]
        assert _bill(c, march)[1] == ["+31699991•••"]
