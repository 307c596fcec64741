"""A CDR whose billed talk time (billsec) is longer than the whole call (duration) cannot be right: the call is
billed for its duration at most, the row is flagged, and the import's report lists it as a warning (line and
reason), so billing sees which rows were not billed as written. The same rule holds for a live push."""
from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest

from tests.factories import make_cdr, verified_client
from tests.traffic.test_ingest import AMS, ast
from tests.traffic.test_push import form, fs_doc, pusher  # noqa: F401  (the push source fixture)
from traffic.importers.base import FLAG_BILLSEC_OVER_DURATION
from traffic.models import Cdr, Tariff
from traffic.services.imports import cdr_bulk_import
from traffic.services.rating import cdr_rate_pending
from traffic.services.sources import source_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def per_second(db):
    # 0.60 a minute, billed per second: one cent a second
    return Tariff.objects.create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.60"), increment_first=1,
                                 increment_next=1, valid_from=date(2020, 1, 1))


class ImportedBillsecOverDurationTests:
    def test_it_is_billed_for_the_duration_and_warned_in_the_report(self, per_second, alice, client, billing_staff):
        pbx = source_create(name="pbx-ams", format="asterisk-csv", timezone=AMS, default_country="NL")
        data = "\n".join([ast("ok.1", duration=66, billsec=61), ast("over.1", duration=20, billsec=90)]) + "\n"
        done = cdr_bulk_import(source=pbx, stream=io.BytesIO(data.encode()), file_name="Master.csv")
        assert done.status == "done" and done.imported == 2
        over = Cdr.objects.get(unique_id="over.1")
        assert (over.duration, over.billsec, over.price) == (20, 20, Decimal("0.20000"))
        assert FLAG_BILLSEC_OVER_DURATION in over.flags.split(",")
        ok = Cdr.objects.get(unique_id="ok.1")
        assert (ok.billsec, ok.price) == (61, Decimal("0.61000"))
        assert done.report["warnings_total"] == 1
        assert [w["line"] for w in done.report["warnings"]] == [2]
        assert "billsec" in done.report["warnings"][0]["reason"]
        verified_client(client, billing_staff)
        page = client.get(f"/calls/staff/imports/{done.pk}/").content.decode()
        assert "Warnings" in page and done.report["warnings"][0]["reason"] in page


class PushedBillsecOverDurationTests:
    def test_a_pushed_call_is_billed_for_its_duration(self, client, pusher, per_second, alice):  # noqa: F811
        document = fs_doc("u-over", billsec=61)
        document["variables"]["duration"] = "30"
        response = form(json.dumps(document), client, pusher)
        assert response.status_code == 201 and response.json()["warnings"] == 1
        cdr = Cdr.objects.get(unique_id="u-over")
        assert (cdr.duration, cdr.billsec, cdr.price) == (30, 30, Decimal("0.30000"))
        assert FLAG_BILLSEC_OVER_DURATION in cdr.flags.split(",")


class RatedLaterTests:
    def test_a_stored_call_rated_after_the_fact_is_priced_for_its_duration_at_most(self, per_second, alice):
        """A call stored before the cap (or pending when it came) and rated by the hourly re-rating: the same rule."""
        cdr = make_cdr(account=alice, dst="+31699993678", billsec=90, duration=20, rating="pending", zone="")
        assert cdr_rate_pending() == 1
        cdr.refresh_from_db()
        assert (cdr.rating, cdr.price) == ("rated", Decimal("0.20000"))
