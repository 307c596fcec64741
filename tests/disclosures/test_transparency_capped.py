"""An answer cut to the authority's maxHits (the package holds M of the N matching records) is counted in the
transparency report as what it is, "capped at the authority's request", never as a full answer: in the outcome
counts, in its own column of the basis table, on the page, in the CSV and in the API, small counts suppressed as
the other cells are (and a full count that would give a hidden capped one away hidden too)."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import localdate, now

from disclosures.models import Outcome
from disclosures.selectors import BASIS_COLUMNS, transparency_report
from disclosures.services.transitions import disclosure_request_narrow
from disclosures.suppression import SECONDARY
from tests.factories import make_cdr, verified_client

from .conftest import ALICE_NUMBER, OTHER, receive, to_state
from .test_pages_api import _api

pytestmark = pytest.mark.django_db

CAPPED = "Capped at the authority's request"


@pytest.fixture
def answers(legal1, legal2, legal3, authority, alice):
    """Three Sv 126n requests about alice's three calls, delivered: one capped at 2 (2 of 3 handed over), one with a
    cap of 5 that was not reached and one without a cap (both full)."""
    for hours in (30, 20, 10):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(hours=hours))
    return [to_state(receive(legal1, authority, max_hits=cap), "delivered", intake=legal1, approvers=[legal2, legal3])
            for cap in (2, 5, None)]


def _report(actor, settings, threshold: int) -> dict:
    settings.DISCLOSURE_REPORT_THRESHOLD = threshold
    return transparency_report(actor=actor, **_half())


def _half() -> dict:
    today = localdate()  # the report counts Amsterdam days
    return {"year": today.year, "half": 1 if today.month <= 6 else 2}


def _row(report: dict, basis: str = "sv_126n") -> dict:
    return next({c: row[c] for c in BASIS_COLUMNS} for row in report["basis_table"] if row["basis"] == basis)


class CappedAnswerTests:
    def test_a_capped_delivery_ends_capped_and_one_within_its_cap_full(self, answers):
        capped, within, uncapped = answers
        assert capped.package.record_count == 2 and capped.package.manifest["max_hits"]["matched"] == 3
        assert [r.outcome for r in answers] == [Outcome.CAPPED, Outcome.FULL, Outcome.FULL]

    def test_a_narrowed_request_stays_partial_even_when_capped_too(self, legal1, legal2, legal3, authority, alice):
        for hours in (30, 20, 10):
            make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(hours=hours))
        req = to_state(receive(legal1, authority, numbers=[ALICE_NUMBER, "+31205550177"], max_hits=2),
                       "under_review", intake=legal1, approvers=[])
        other = [t.pk for t in req.targets.all() if t.number != ALICE_NUMBER]
        narrowed = disclosure_request_narrow(actor=legal1, request=req, remove_target_ids=other)
        delivered = to_state(narrowed, "delivered", intake=legal1, approvers=[legal2, legal3])
        assert delivered.package.manifest["max_hits"]["capped"] and delivered.outcome == Outcome.PARTIAL

    def test_the_report_counts_it_as_capped_not_as_full(self, answers, legal1, settings):
        report = _report(legal1, settings, threshold=1)
        assert report["by_outcome"] == {"Full": "2", "Partial": "0", CAPPED: "1", "No data": "0", "Rejected": "0"}
        row = _row(report)
        assert (row["received"], row["full"], row["partial"], row["capped"], row["accounts"]) == ("3", "2", "0", "1",
                                                                                                  "1")
        assert report["accounts_affected"] == "1"

    def test_a_small_capped_count_is_suppressed_and_so_is_the_full_count_that_would_give_it_away(
            self, answers, legal1, settings):
        report = _report(legal1, settings, threshold=2)
        row = _row(report)
        assert (row["received"], row["capped"], row["full"]) == ("3", "< 2", SECONDARY)
        assert (report["by_outcome"][CAPPED], report["by_outcome"]["Full"]) == ("< 2", SECONDARY)

    def test_the_page_the_csv_and_the_api_show_the_capped_column(self, answers, client, legal1, settings):
        settings.DISCLOSURE_REPORT_THRESHOLD = 1
        c = verified_client(client, legal1)
        page = c.get(reverse("disclosures:report"), _half()).content.decode()
        heads = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', page)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", re.search(r'<tr id="basis-sv_126n"[^>]*>(.*?)</tr>', page).group(1))
        assert dict(zip(heads[1:], cells))["Capped"] == "1" and dict(zip(heads[1:], cells))["Full"] == "2"
        assert f"<li>{CAPPED}: 1</li>".replace("'", "&#x27;") in page and "<li>Full: 2</li>" in page
        lines = [line[1:] for line in csv.reader(io.StringIO(
            c.get(reverse("disclosures:report"), {**_half(), "format": "csv"}).content.decode()))]
        assert ["basis:sv_126n", "capped", "1"] in lines and ["basis:sv_126n", "full", "2"] in lines
        assert ["by_outcome", CAPPED, "1"] in lines
        api = _api(legal1).get("/api/v1/staff/disclosures/transparency/", _half()).json()
        assert _row(api)["capped"] == "1" and api["by_outcome"][CAPPED] == "1" and api["by_outcome"]["Full"] == "2"

    def test_the_page_in_dutch_names_the_capped_column(self, answers, client, legal1):
        c = verified_client(client, legal1)
        c.cookies["django_language"] = "nl"
        page = c.get(reverse("disclosures:report"), _half()).content.decode()
        assert '<html lang="nl">' in page and "Afgetopt" in page
