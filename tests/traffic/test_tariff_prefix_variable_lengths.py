"""Prefixes of numbering plans with numbers of several lengths: Berlin (+49 30) and Munich (+49 89) fixed lines are
5 to 15 digits long in phonenumbers' metadata, the Dutch municipal 14-numbers 5 or 6, and 0800 numbers 7 to 10. Such
a prefix covers far more than 10,000 numbers (LEGAL.md section 5 row 3) even though its shortest number leaves only 3
digits open, so billing must be able to price it; a prefix that leaves too few numbers open is still refused."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.factories import verified_client
from traffic.models import Tariff
from traffic.rate_deck import parse_rate_deck
from traffic.services import tariffs as tariff_services
from voipxs.exceptions import ApplicationError
from voipxs.privacy.number_ranges import prefix_too_narrow

pytestmark = pytest.mark.django_db

REAL_PREFIXES = ("4930", "4989", "3114", "318001")  # Berlin, Munich, NL municipal 14-numbers, 0800-1...
# Still too narrow: a whole Berlin number (10 digits after 49), 14 + two digits (at most 110 numbers), Amsterdam
# 555-0 (1,000 numbers): each would let an invoice line name the number called.
NARROW = ("493012345678", "311402", "31205550", "4930123")


def _deck(prefix: str) -> str:
    return f"prefix,description,rate,increments\n{prefix},Zone,0.0100,60/60\n"


class VariableLengthPrefixTests:
    @pytest.mark.parametrize("prefix", REAL_PREFIXES)
    def test_a_real_prefix_is_accepted_by_the_service_and_the_rate_deck(self, prefix, billing_staff):
        assert not prefix_too_narrow(prefix)
        assert parse_rate_deck(_deck(prefix))[1] == []
        made = tariff_services.tariff_create(prefix=f"+{prefix}", zone="Zone", price_per_minute=Decimal("0.02"),
                                             valid_from=date(2026, 1, 1), actor=billing_staff)
        assert made.prefix == prefix

    @pytest.mark.parametrize("prefix", NARROW)
    def test_a_prefix_naming_too_few_numbers_is_still_refused(self, prefix, billing_staff):
        assert prefix_too_narrow(prefix)
        assert [e.field for e in parse_rate_deck(_deck(prefix))[1]] == ["prefix"]
        with pytest.raises(ApplicationError) as refused:
            tariff_services.tariff_create(prefix=prefix, zone="Zone", price_per_minute=Decimal("0.02"),
                                          valid_from=date(2026, 1, 1), actor=billing_staff)
        assert refused.value.extra["field"] == "prefix" and prefix not in str(refused.value)
        assert not Tariff.objects.exists()

    def test_the_staff_page_adds_a_berlin_tariff(self, client, billing_staff):
        verified_client(client, billing_staff)
        form = {"prefix": "4930", "zone": "Berlin", "price_per_minute": "0.02", "setup_fee": "0",
                "increment_first": "60", "increment_next": "60", "valid_from": "2026-02-01"}
        asked = client.post("/calls/staff/tariffs/", form)
        assert asked.status_code == 200 and "Yes, add this tariff" in asked.content.decode()
        client.post("/calls/staff/tariffs/", {**form, "confirmed": "1"})
        assert Tariff.objects.get().prefix == "4930"
