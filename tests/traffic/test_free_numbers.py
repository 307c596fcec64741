"""LEGAL.md row 9: an itemised bill may leave off calls to free and helpline numbers (0800 and +800 freephone,
112, 113, the 116 xxx helplines), per Contractor and per individual User, on by default (GDPR art. 25; the
privacy policy promises nothing else). Left off the bill page, the API and the CSV of an invoice's calls and the
contractor's view; they still count in the invoice's lines and totals (the invoice and its PDF name no number)."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from accounts.services.users import contractor_itemisation_set
from tests.factories import make_cdr, make_user, verified_client
from traffic.services import invoices as invoicing
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
        assert "Calls to free and helpline numbers (such as 0800, 112, 113 and 116 numbers) are not listed" in page

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
