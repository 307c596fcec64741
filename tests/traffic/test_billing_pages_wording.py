"""What a billing clerk reads on the staff pages: months and days written out in the page's language (not as
ISO keys such as 2026-03), in the page and in the message after an action; a reissue that asks first."""
from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import verified_client
from tests.retention.helpers import make_invoice
from traffic.models import Invoice
from traffic.services import tariffs as tariff_services

INTERCONNECTION = "/calls/staff/interconnection/"
DECK_PREVIEW = "/calls/staff/tariffs/rate-deck/"
DECK = b"prefix,description,rate,increments\n316,NL mobile,0.0450,1/1\n"


@pytest.mark.django_db
class BillingPagesWordingTests:
    def test_the_interconnection_report_names_its_month_in_words(self, client, billing_staff):
        verified_client(client, billing_staff)
        page = html.unescape(client.get(f"{INTERCONNECTION}?month=2026-03").content.decode())
        assert "Answered calls per carrier and switch in March 2026" in page

    def test_the_dutch_interconnection_report_names_its_month_in_dutch(self, client, billing_staff):
        verified_client(client, billing_staff)
        client.cookies["django_language"] = "nl"
        page = html.unescape(client.get(f"{INTERCONNECTION}?month=2026-03").content.decode())
        assert "maart 2026" in page and "in 2026-03" not in page

    def test_the_message_after_ending_a_tariff_writes_its_last_day_out(self, client, billing_staff):
        tariff = tariff_services.tariff_create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.06"),
                                               valid_from=date(2026, 1, 1), actor=billing_staff)
        verified_client(client, billing_staff)
        done = client.post(f"/calls/staff/tariffs/{tariff.pk}/end/", {"valid_to": "2026-05-31", "confirmed": "1"},
                           follow=True)
        page = html.unescape(done.content.decode())
        assert "ends on 31 May 2026" in page and "2026-05-31." not in page

    def test_the_message_after_a_rate_deck_writes_its_first_day_out(self, client, billing_staff):
        verified_client(client, billing_staff)
        preview = client.post(DECK_PREVIEW, {"file": SimpleUploadedFile("deck.csv", DECK), "valid_from": "2026-06-01"})
        form = preview.context["confirm_form"]
        done = client.post(f"{DECK_PREVIEW}apply/", {"csv": form.initial["csv"], "valid_from": "2026-06-01",
                                                     "confirm": form.initial["confirm"]}, follow=True)
        page = html.unescape(done.content.decode())
        assert "Rate deck applied from 1 June 2026:" in page

    def test_on_a_phone_the_rate_deck_preview_labels_each_cell_with_its_column(self, client, billing_staff):
        """A phone shows the preview as one card per line, so the new price is not off the screen to the right."""
        verified_client(client, billing_staff)
        page = client.post(DECK_PREVIEW, {"file": SimpleUploadedFile("deck.csv", DECK), "valid_from": "2026-06-01"})
        body = html.unescape(page.content.decode())
        assert 'class="table stacked"' in body
        assert re.search(r'<td class="num" data-label="New"[^>]*>€0\.0450 \(1/1\)</td>', body)

    def test_a_refused_prefix_says_what_a_prefix_must_be_and_keeps_what_was_typed(self, client, billing_staff):
        verified_client(client, billing_staff)
        page = client.post("/calls/staff/tariffs/", {"prefix": "31x", "zone": "Test zone", "price_per_minute": "0.01",
                                                     "setup_fee": "0", "increment_first": "60", "increment_next": "60",
                                                     "valid_from": "2026-06-01"})
        body = html.unescape(page.content.decode())
        assert page.status_code == 400 and "The prefix must be 1 to 20 digits." in body
        assert 'value="31x"' in body and "Enter a valid value" not in body


@pytest.mark.django_db
class ReissueAsksFirstTests:
    def test_reissue_asks_naming_the_invoice_and_makes_nothing_until_confirmed(self, client, alice, billing_staff):
        void = make_invoice(account=alice, period=date(2026, 3, 1), status="void")
        verified_client(client, billing_staff)
        asked = client.post(f"/calls/staff/invoices/{void.pk}/reissue/")
        page = html.unescape(asked.content.decode())
        assert asked.status_code == 200 and f"Reissue invoice {void.number}?" in page
        assert "Yes, make the corrected invoice" in page and "Cancel" in page
        assert not Invoice.objects.filter(replaces=void).exists()

    def test_the_dutch_reissue_question_is_in_dutch(self, client, alice, billing_staff):
        void = make_invoice(account=alice, period=date(2026, 3, 1), status="void")
        verified_client(client, billing_staff)
        client.cookies["django_language"] = "nl"
        page = html.unescape(client.post(f"/calls/staff/invoices/{void.pk}/reissue/").content.decode())
        assert f"Factuur {void.number} opnieuw uitgeven?" in page and "Ja, maak de gecorrigeerde factuur" in page


@pytest.mark.django_db
class RateDeckPreviewDutchTests:
    def test_the_dutch_preview_heads_the_kind_of_change_with_a_noun(self, client, billing_staff):
        """Not "Wijzigen" (to change, the language switch's button) but the change a line makes."""
        verified_client(client, billing_staff)
        client.cookies["django_language"] = "nl"
        page = client.post(DECK_PREVIEW, {"file": SimpleUploadedFile("deck.csv", DECK), "valid_from": "2026-06-01"})
        assert 'data-label="Wijziging"' in html.unescape(page.content.decode())
