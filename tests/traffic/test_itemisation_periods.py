"""LEGAL.md row 9: a change of itemised bills made in billing period P applies from P+1 (as the masking list,
Bude art. 4.2(3)); the bills of P and earlier keep the setting of their own period, on the bill page, the API
and the CSV of an invoice's calls, for an individual's own choice and for a Contractor's. Where the customer
changes it (My numbers, support's card, the contractor admin) the page names the pending setting and from
which month it applies."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from django.utils.formats import date_format

from accounts.models import Contractor, ItemisationChange
from accounts.selectors import itemisation_history, next_billing_period
from accounts.services.users import contractor_create, contractor_itemisation_set, user_itemisation_set, user_update_admin
from tests.factories import make_cdr, make_user, verified_client
from traffic.services import invoices as invoicing

pytestmark = pytest.mark.django_db

OWN, OTHER, OTHER_MASKED = "+31205550301", "+31699991111", "+31699991•••"
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
IN_MARCH = datetime(2026, 3, 15, 11, 0, tzinfo=timezone.utc)  # when the change is asked for: period P = March


def _bill(client, invoice) -> tuple[str, dict, str]:
    """What the customer sees of an invoice's calls: the bill page (full numbers asked), the API, the CSV."""
    page = client.get(f"/calls/invoices/{invoice.pk}/?full=1").content.decode()
    api = client.get("/api/v1/me/calls/", {"invoice": invoice.pk}).json()
    csv = b"".join(client.get("/api/v1/me/calls.csv", {"invoice": invoice.pk}).streaming_content).decode()
    return page, api, csv


def _march_and_april_bills(user, src: str) -> tuple:
    make_cdr(account=user, src=src, dst=OTHER, started_at=datetime(2026, 3, 10, 9, tzinfo=timezone.utc))
    make_cdr(account=user, src=src, dst=OTHER, started_at=datetime(2026, 4, 10, 9, tzinfo=timezone.utc))
    march = invoicing.invoice_run(month=MARCH, today=date(2026, 4, 2))
    april = invoicing.invoice_run(month=APRIL, today=date(2026, 5, 2))
    return next(i for i in march if i.account_id == user.pk), next(i for i in april if i.account_id == user.pk)


class IndividualChangeTests:
    def test_a_choice_made_in_march_leaves_the_march_bill_as_it_was_and_itemises_april(self, client):
        dora = make_user("dora", numbers=[OWN])  # not itemised: the default
        user_itemisation_set(user=dora, itemisation="full", at=IN_MARCH)
        march, april = _march_and_april_bills(dora, OWN)
        verified_client(client, dora)
        page, api, csv = _bill(client, march)
        assert OTHER not in page and "only the totals above are shown" in page
        assert api == {"results": [], "next_cursor": None, "itemised": False} and OTHER not in csv
        page, api, csv = _bill(client, april)
        assert OTHER in page and "only the totals" not in page
        assert [r["other_number"] for r in api["results"]] == [OTHER] and OTHER in csv

    def test_opting_out_in_march_keeps_the_march_bill_itemised(self, client):
        dora = make_user("dora", numbers=[OWN], itemisation="full")
        user_itemisation_set(user=dora, itemisation="none", at=IN_MARCH)
        march, april = _march_and_april_bills(dora, OWN)
        verified_client(client, dora)
        assert _bill(client, march)[1]["results"][0]["other_number"] == OTHER
        assert _bill(client, april)[1] == {"results": [], "next_cursor": None, "itemised": False}


class ContractorChangeTests:
    def test_masking_chosen_in_march_masks_from_april_and_not_the_march_bill(self, client, acme, bob):
        contractor_itemisation_set(contractor=acme, itemisation="masked", at=IN_MARCH)  # Acme was "full"
        march, april = _march_and_april_bills(bob, "+31205550201")
        verified_client(client, bob)
        page, api, _csv = _bill(client, march)
        assert OTHER in page and api["results"][0]["other_number"] == OTHER
        page, api, csv = _bill(client, april)
        assert OTHER_MASKED in page and OTHER not in page
        assert api["results"][0]["other_number"] == OTHER_MASKED and OTHER not in csv

    def test_the_contractor_view_lists_only_the_calls_of_periods_that_were_itemised(self, client, acme, bob,
                                                                                   acme_admin):
        # Acme was "full"; it chose "none" in February and "masked" again in March: February's calls stay off.
        contractor_itemisation_set(contractor=acme, itemisation="none", at=datetime(2026, 1, 20, tzinfo=timezone.utc))
        contractor_itemisation_set(contractor=acme, itemisation="masked",
                                   at=datetime(2026, 2, 20, tzinfo=timezone.utc))
        for day in (datetime(2026, 1, 10, tzinfo=timezone.utc), datetime(2026, 2, 10, tzinfo=timezone.utc),
                    datetime(2026, 3, 10, tzinfo=timezone.utc)):
            make_cdr(account=bob, src="+31205550201", dst=OTHER, started_at=day)
        api = verified_client(client, acme_admin).get("/api/v1/contractor/calls/").json()
        assert api["itemised"] is True
        assert sorted(r["started_at"][:7] for r in api["results"]) == ["2026-01", "2026-03"]


class StatusChangeTests:
    """A User who leaves a contractor, or joins one, keeps each bill under the setting of the party it was
    issued to in its period: the contractor's then, or their own as an individual."""

    def test_a_user_who_left_the_contractor_still_sees_the_contractors_itemised_bill(self, client, bob):
        march, _april = _march_and_april_bills(bob, "+31205550201")  # issued to Acme, whose bills are itemised
        user_update_admin(user=bob, fields={"contractor": None})  # now an individual, not itemised (the default)
        verified_client(client, bob)
        page, api, csv = _bill(client, march)
        assert OTHER in page and "only the totals above are shown" not in page
        assert [r["other_number"] for r in api["results"]] == [OTHER] and OTHER in csv

    def test_a_user_who_joined_a_contractor_keeps_their_own_itemised_bill(self, client):
        dora = make_user("dora", numbers=[OWN], itemisation="full")
        march, _april = _march_and_april_bills(dora, OWN)  # issued to Dora herself
        beta = contractor_create(name="Beta BV", itemisation="none")
        user_update_admin(user=dora, fields={"contractor": beta})
        verified_client(client, dora)
        page, api, csv = _bill(client, march)
        assert OTHER in page and "Your contract has bills without a list of calls" not in page
        assert [r["other_number"] for r in api["results"]] == [OTHER] and OTHER in csv

    def test_the_new_status_applies_to_the_bills_issued_under_it(self, client):
        dora = make_user("dora", numbers=[OWN], itemisation="full")
        beta = contractor_create(name="Beta BV", itemisation="none")
        user_update_admin(user=dora, fields={"contractor": beta})
        _march, april = _march_and_april_bills(dora, OWN)  # issued to Beta, whose bills have no list
        verified_client(client, dora)
        page, api, csv = _bill(client, april)
        assert OTHER not in page and "Your contract has bills without a list of calls" in page
        assert api == {"results": [], "next_cursor": None, "itemised": False} and OTHER not in csv


class PendingChangeTests:
    def test_a_second_change_in_the_same_period_amends_the_first_and_a_change_back_leaves_nothing(self, acme):
        contractor_itemisation_set(contractor=acme, itemisation="masked")
        contractor_itemisation_set(contractor=acme, itemisation="none")
        history = itemisation_history(contractor=acme)
        assert history.current().itemisation == "full"
        assert history.pending() == (next_billing_period(), history.at(next_billing_period()))
        assert history.at(next_billing_period()).itemisation == "none"
        contractor_itemisation_set(contractor=acme, itemisation="full")
        assert itemisation_history(contractor=acme).pending() is None
        assert not ItemisationChange.objects.filter(contractor=acme).exists()


def _month(day: date) -> str:
    return date_format(day, "YEAR_MONTH_FORMAT")


class PendingShownTests:
    """Where the setting is changed, the page names the setting in force now and the pending one with its month."""

    def test_my_numbers_shows_the_setting_now_and_the_pending_one_with_its_month(self, client):
        dora = make_user("dora", numbers=[OWN])
        c = verified_client(client, dora)
        page = c.get("/accounts/numbers/").content.decode()
        assert 'id="itemisation-pending"' not in page
        response = c.post("/accounts/numbers/itemisation/", {"itemisation": "masked"}, follow=True)
        page = response.content.decode()
        assert f"It applies to your bills from {_month(next_billing_period())} on" in page
        assert "Now: not itemised (totals only)." in page
        pending = re.search(r'id="itemisation-pending">(.*?)</p>', page, re.S).group(1)
        assert f"From the bills of {_month(next_billing_period())} on: itemised, numbers masked." in pending
        # the form starts from the choice made (the pending one), not the one in force
        assert re.findall(r'name="itemisation" value="(\w+)"[^>]*\bchecked>', page) == ["masked"]

    def test_a_contractors_user_sees_the_contractors_pending_change(self, client, acme, bob):
        contractor_itemisation_set(contractor=acme, itemisation="none")
        page = verified_client(client, bob).get("/accounts/numbers/").content.decode()
        assert "Now: itemised, numbers in full." in page
        assert f"From the bills of {_month(next_billing_period())} on: not itemised (totals only)." in page

    def test_supports_card_and_confirmation_name_the_month(self, client, support, alice):
        c = verified_client(client, support)
        asked = c.post(f"/support/customers/{alice.pk}/itemisation/",
                       {"itemisation": "masked", "channel": "phone", "confirm": ""}).content.decode()
        assert f"Their bills from {_month(next_billing_period())} on show: itemised, numbers masked." in asked
        c.post(f"/support/customers/{alice.pk}/itemisation/", {"itemisation": "masked", "channel": "phone",
                                                               "confirm": "yes"})
        card = c.get(f"/support/customers/{alice.pk}/").content.decode()
        assert "Now: itemised, numbers in full." in card
        assert f"From the bills of {_month(next_billing_period())} on: itemised, numbers masked." in card

    def test_the_contractor_admin_lists_the_pending_change(self, client, admin_user, acme):
        c = verified_client(client, admin_user)
        assert c.post(f"/admin/accounts/contractor/{acme.pk}/change/",
                      {"name": "Acme BV", "itemisation": "masked"}).status_code == 302
        listing = c.get("/admin/accounts/contractor/").content.decode()
        assert f"from {_month(next_billing_period())}: itemised, numbers masked" in listing
        assert itemisation_history(contractor=acme).current().itemisation == "full"

    def test_a_new_contractors_first_choice_in_the_admin_applies_at_once(self, client, admin_user):
        c = verified_client(client, admin_user)
        assert c.post("/admin/accounts/contractor/add/", {"name": "Beta BV", "itemisation": "masked"}
                      ).status_code == 302
        assert not ItemisationChange.objects.exists()
        last_year = date.today() - timedelta(days=365)
        beta = Contractor.objects.get(name="Beta BV")
        assert itemisation_history(contractor=beta).at(last_year).itemisation == "masked"
