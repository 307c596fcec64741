"""The page a customer sees after erasing their account, the last one they see of us: on a phone its table of what
the law makes us keep was wider than the screen (101 px at 390 px in Dutch), its "Deleted on" column, the date the
customer wants, swiped out of sight. It is a {% stacked_table %}: on a phone a card per kind of data, each value beside
its heading, as the customer's other lists."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest
from tests.factories import PASSWORD, verified_client

pytestmark = pytest.mark.django_db


def test_the_table_of_what_is_kept_is_cards_on_a_phone_each_value_beside_its_heading(client, alice):
    from traffic.models import Invoice

    period = date.today().replace(day=1) - timedelta(days=40)
    Invoice.objects.create(number=f"INV-{alice.pk}-{period:%Y%m}", account=alice, period=period,
                           due_date=period + timedelta(days=45), dispute_window_ends=date.today() + timedelta(days=150),
                           status="paid", paid_at=now())
    verified_client(client, alice)
    response = client.post("/privacy-requests/new/", {"kind": DataSubjectRequest.Kind.ERASURE, "password": PASSWORD,
                                                      "confirm": "yes"})
    page = response.content.decode()
    assert response.status_code == 200 and "Your account is closed" in page
    table = re.search(r"<table[^>]*>.*?</table>", page, re.DOTALL).group(0)
    assert re.search(r'<table class="table stacked"', table), table
    assert 'data-label="Deleted on"' in table and 'data-label="Legal basis"' in table


def _erase_in_dutch(client, user, *, hold_reference: str = ""):
    from retention.models import Category, LegalHold
    from retention.services import legal_hold_place
    from traffic.models import Invoice

    period = date.today().replace(day=1) - timedelta(days=40)
    Invoice.objects.create(number=f"INV-{user.pk}-{period:%Y%m}", account=user, period=period,
                           due_date=period + timedelta(days=45), dispute_window_ends=date.today() + timedelta(days=150),
                           status="open")
    if hold_reference:
        legal_hold_place(reason=LegalHold.Reason.DISPUTE, reference=hold_reference, account_ids=[user.pk],
                         categories=[Category.CDR_BILLED])
    verified_client(client, user)
    client.cookies["django_language"] = "nl"
    return client.post("/privacy-requests/new/", {"kind": DataSubjectRequest.Kind.ERASURE, "password": PASSWORD,
                                                  "confirm": "yes"})


def test_a_dutch_customer_reads_what_is_kept_and_why_in_dutch(client, alice):
    """The table and the answer named the kept data by its keys ("invoices", "calls") and gave the reasons in
    English on the Dutch page, the last page the person sees of us."""
    page = _erase_in_dutch(client, alice, hold_reference="court:2026-88").content.decode()
    table = re.search(r"<table[^>]*>.*?</table>", page, re.DOTALL).group(0)
    answer = re.search(r'<p id="erasure-answer">(.*?)</p>', page, re.DOTALL).group(1)
    for english in ("invoices", "calls", "kept for the tax authority", "Calls of an invoice", "Legal hold (",
                    "deleted:"):
        assert english not in table and english not in answer, english
    assert "Facturen" in table and "Gesprekken" in table and "Bewaarplicht (" in table
    assert "court:2026-88" in table and "Facturen: " in answer


def test_the_record_keeps_the_keys_and_english_reasons_beside_what_the_person_read(client, alice):
    _erase_in_dutch(client, alice, hold_reference="court:2026-89")
    kept = DataSubjectRequest.objects.get(user=alice, kind=DataSubjectRequest.Kind.ERASURE).outcome["kept"]
    by_category = {k["category"]: k for k in kept}
    assert by_category["invoices"]["reason"] == "Invoices and their aggregated lines are kept for the tax authority."
    assert by_category["invoices"]["category_label"] == "Facturen"
    hold = next(k for k in kept if k["reason"].startswith("Legal hold ("))
    assert hold["reason"].endswith(", court:2026-89).") and "court:2026-89" in hold["reason_shown"]
