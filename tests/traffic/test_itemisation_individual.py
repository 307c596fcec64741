"""An individual subscriber's itemised bill (User.itemisation; GDPR art. 25, ePrivacy art. 7, Tw 11.4):
totals only unless they opt in on their numbers page; masked or full once they do. Their own call
history is not a bill and lists their calls either way. A Contractor's User gets the contractor's setting,
never their own field."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from accounts.models import User
from accounts.selectors import next_billing_period
from accounts.services.users import contractor_itemisation_set
from tests.factories import make_cdr, make_user, verified_client
from traffic.exports import CALL_HEADER
from traffic.partitions import add_months
from traffic.selectors.masking import mask_rule
from traffic.services import invoices as invoicing
from voipxs.privacy.models import AuditEntry
from voipxs.privacy.purposes import Purpose

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
OWN, OTHER, OTHER_MASKED = "+31205550301", "+31699991111", "+31699991•••"
CSV_HEADER = ",".join(CALL_HEADER)


@pytest.fixture
def dora(db) -> User:
    """A new individual subscriber (not itemised: the default) who called OTHER in March."""
    user = make_user("dora", numbers=[OWN])
    make_cdr(account=user, src=OWN, dst=OTHER, started_at=T0)
    return user


@pytest.fixture
def bill(dora):
    return invoicing.invoice_run(month=date(2026, 3, 1), today=date(2026, 4, 2))[0]


@pytest.fixture
def next_bill(dora):
    """Dora's bill of the next billing period, when a choice she makes now applies (LEGAL.md row 9)."""
    month = next_billing_period()
    make_cdr(account=dora, src=OWN, dst=OTHER, started_at=datetime.combine(month, datetime.min.time(), timezone.utc)
             + timedelta(days=9))
    return invoicing.invoice_run(month=month, today=add_months(month, 1) + timedelta(days=1))[0]


def _opt_in(client, user, choice: str) -> None:
    response = verified_client(client, user).post("/accounts/numbers/itemisation/", {"itemisation": choice})
    assert response.status_code == 302


def _bill(client, invoice, full: bool = True) -> tuple[str, dict, str]:
    """The bill page, the API's calls of the invoice and the CSV of them."""
    page = client.get(f"/calls/invoices/{invoice.pk}/" + ("?full=1" if full else "")).content.decode()
    api = client.get("/api/v1/me/calls/", {"invoice": invoice.pk}).json()
    csv = b"".join(client.get("/api/v1/me/calls.csv", {"invoice": invoice.pk}).streaming_content).decode()
    return page, api, csv


class IndividualItemisationTests:
    def test_an_individual_who_did_not_opt_in_sees_totals_only(self, client, dora, bill):
        page, api, csv = _bill(verified_client(client, dora), bill)
        assert "+31699991" not in page and "only the totals above are shown" in page
        assert str(bill.total) in page and 'href="/accounts/numbers/#itemisation"' in page
        assert api == {"results": [], "next_cursor": None, "itemised": False}
        assert csv.strip().splitlines() == [CSV_HEADER]

    def test_an_individual_who_opts_in_sees_the_itemised_bill_masked_until_they_ask(self, client, dora, bill,
                                                                                     next_bill):
        _opt_in(client, dora, "full")
        page, api, csv = _bill(client, next_bill)
        assert OTHER in page and "only the totals" not in page
        assert api["itemised"] is True and api["results"][0]["other_number"] == OTHER
        assert OTHER in csv
        masked_page = client.get(f"/calls/invoices/{next_bill.pk}/").content.decode()
        assert OTHER_MASKED in masked_page and OTHER not in masked_page and "Show full numbers" in masked_page
        assert AuditEntry.objects.filter(action="user.itemisation", extra__from="none", extra__to="full").exists()
        _page, api, _csv = _bill(client, bill)  # the bill of a month before the choice stays as it was
        assert api["itemised"] is False

    def test_masked_hides_the_last_digits_even_when_they_ask_for_full(self, client, dora, next_bill):
        _opt_in(client, dora, "masked")
        page, api, csv = _bill(client, next_bill, full=True)
        assert OTHER_MASKED in page and OTHER not in page and "Show full numbers" not in page
        assert "as you chose" in page
        assert api["results"][0]["other_number"] == OTHER_MASKED and api["results"][0]["masked"] is True
        assert OTHER_MASKED in csv and OTHER not in csv

    def test_opting_out_again_shows_totals_only(self, client, dora, bill):
        _opt_in(client, dora, "full")
        _opt_in(client, dora, "none")
        page, api, _csv = _bill(client, bill)
        assert "+31699991" not in page and api["itemised"] is False

    def test_the_own_call_history_lists_the_calls_without_itemised_bills(self, client, dora, bill):
        api = verified_client(client, dora).get("/api/v1/me/calls/").json()
        assert api["itemised"] is True and [row["other_number"] for row in api["results"]] == [OTHER]


class SelectorTests:
    def test_a_new_individuals_bill_is_not_itemised_and_their_history_is(self, dora, bill):
        assert mask_rule(actor=dora, purpose=Purpose.SELF_SERVICE, invoice=bill).itemised is False
        assert mask_rule(actor=dora, purpose=Purpose.SELF_SERVICE).itemised is True

    def test_a_contractors_user_follows_the_contractor_not_their_own_field(self, acme, bob):
        User.objects.filter(pk=bob.pk).update(itemisation="full")  # a stale value of their own never applies
        bob.refresh_from_db()
        last_month = datetime.now(timezone.utc) - timedelta(days=31)  # so that it applies to this month's bills
        contractor_itemisation_set(contractor=acme, itemisation="none", at=last_month)
        assert mask_rule(actor=bob, purpose=Purpose.SELF_SERVICE, invoice=object()).itemised is False
        contractor_itemisation_set(contractor=acme, itemisation="masked", at=last_month)
        rule = mask_rule(actor=bob, purpose=Purpose.SELF_SERVICE, invoice=object())
        assert rule.itemised is True and rule.mask_all is True
