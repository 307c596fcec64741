"""The transparency report from seeded cases (LEGAL.md section 5, row 22): counts by basis, authority type and
outcome, emergencies, preservations, notices and accounts affected, exact without suppression and "< N" under
the threshold, the same on the page, in the CSV and in the API. Every case goes through the officers' services."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import localdate, now

from disclosures.models import AuthorityKind, LegalBasis
from disclosures.selectors import transparency_report
from disclosures.services.authorities import authority_create, authority_verify
from disclosures.services.notices import disclosure_request_notices_send
from disclosures.services.preservation import disclosure_preservation_convert, disclosure_preservation_renew
from disclosures.services.transitions import (
    disclosure_request_close,
    disclosure_request_narrow,
    disclosure_request_reject,
    disclosure_request_withdraw,
)
from tests.factories import make_cdr, make_user, verified_client

from .conftest import ALICE_NUMBER, receive, to_state, with_certificate
from .test_pages_api import _api

pytestmark = pytest.mark.django_db

BOB_NUMBER, CAROL_NUMBER = "+31205550201", "+31205550202"
NOBODY_S = "+31205550999"  # held by none of our customers: a request for it finds no data
USER_DATA = ("user_data",)


def _body(legal1, legal2, name: str, kind: str):
    body = authority_create(actor=legal1, name=name, kind=kind, contact_phone="+31205555320")
    return with_certificate(authority_verify(actor=legal2, authority=body, note="register"), actor=legal1)


@pytest.fixture
def seeded(legal1, legal2, legal3, authority, dispute_body, alice, bob, carol):
    """Fourteen requests of this half-year; the comment on each says what the report should count."""
    dave = make_user("dave", numbers=["+31205550301"])
    erin = make_user("erin", numbers=["+31205550302"])
    prosecutor = _body(legal1, legal2, "OM Arrondissementsparket Test", AuthorityKind.PROSECUTOR)
    court = _body(legal1, legal2, "Rechtbank Test", AuthorityKind.COURT)
    for account, number in ((alice, ALICE_NUMBER), (bob, BOB_NUMBER), (carol, CAROL_NUMBER)):
        make_cdr(account=account, src=number, dst="+31699993678", started_at=now() - timedelta(days=2))

    def deliver(req):
        return to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3])

    # Police, Sv 126n: full (alice), no data (a number nobody of ours holds), full (bob's account and carol's
    # number: two accounts), rejected, withdrawn.
    deliver(receive(legal1, authority, numbers=[ALICE_NUMBER]))
    deliver(receive(legal1, authority, numbers=[NOBODY_S]))
    deliver(receive(legal1, authority, numbers=[CAROL_NUMBER], account_ids=[bob.pk]))
    disclosure_request_reject(actor=legal1, request=receive(legal1, authority), reason="no basis")
    disclosure_request_withdraw(actor=legal1, request=receive(legal1, authority), note="withdrawn by the unit")
    # Prosecutor: an emergency under Sv 126n about alice again (one account under 126n, whatever the requests),
    # and Sv 126na user data of dave's account.
    deliver(receive(legal1, prosecutor, numbers=[ALICE_NUMBER], emergency=True))
    deliver(receive(legal1, prosecutor, numbers=[], account_ids=[dave.pk], basis=LegalBasis.SV_126NA,
                    categories=USER_DATA))
    # Police, Sv 126u: bob's and carol's numbers, narrowed to bob's before approval: partial, one account.
    wide = to_state(receive(legal1, authority, numbers=[BOB_NUMBER, CAROL_NUMBER], basis=LegalBasis.SV_126U),
                    "under_review", intake=legal1, approvers=[])
    carol_s = [t for t in wide.targets.all() if t.number == CAROL_NUMBER]
    deliver(disclosure_request_narrow(actor=legal1, request=wide, remove_target_ids=[carol_s[0].pk]))
    # Police, Sv 126ni: one preservation renewed and closed at its end (preserved, nothing handed over), one
    # converted into a Sv 126n production order (a fourteenth request, still open).
    kept = to_state(receive(legal1, authority, basis=LegalBasis.SV_126NI), "approved", intake=legal1,
                    approvers=[legal2, legal3])
    disclosure_request_close(actor=legal1, request=disclosure_preservation_renew(actor=legal2, request=kept,
                                                                                 order_reference="OvJ-RENEW-1"))
    disclosure_preservation_convert(actor=legal2, request=receive(legal1, authority, numbers=[BOB_NUMBER],
                                                                  basis=LegalBasis.SV_126NI),
                                    legal_basis=LegalBasis.SV_126N, reference="PV-CONVERTED-1",
                                    order_document=b"%PDF-1.7 production order", order_document_title="vordering.pdf",
                                    deadline=now() + timedelta(days=10))
    # Court order about erin under a running secrecy order: full, its notice withheld. Dispute body about alice:
    # full, its draft notice sent by an officer. An EPOC emergency still open.
    deliver(receive(legal1, court, numbers=[], account_ids=[erin.pk], basis=LegalBasis.COURT_ORDER,
                    categories=USER_DATA, secrecy_until=now().date() + timedelta(days=90)))
    disclosure_request_notices_send(actor=legal2, request=deliver(receive(legal1, dispute_body,
                                                                         basis=LegalBasis.DISPUTE_RULING)))
    receive(legal1, authority, basis=LegalBasis.EU_PRODUCTION, emergency=True)


def _report(actor, settings, threshold: int) -> dict:
    settings.DISCLOSURE_REPORT_THRESHOLD = threshold
    today = localdate()  # the report counts Amsterdam days
    return transparency_report(actor=actor, year=today.year, half=1 if today.month <= 6 else 2)


def _half() -> dict:
    today = localdate()
    return {"year": today.year, "half": 1 if today.month <= 6 else 2}


EXACT = {"total": "14", "emergency": "2", "preservation": "2", "preservations_renewed": "1",
         "preservations_converted": "1", "notices_sent": "1", "notices_withheld": "1", "accounts_affected": "5"}
EXACT_KINDS = {"Police unit": "10", "Public prosecutor": "2", "Court": "1", "Dispute commission": "1", "Mediator": "0"}
EXACT_OUTCOMES = {"Full": "6", "Partial": "1", "Capped at the authority's request": "0", "No data": "1",
                  "Rejected": "1"}
EXACT_ROWS = {  # received, emergency, full, partial, capped, no_data, rejected, withdrawn, preserved, converted,
    # accounts
    "sv_126n": "7 1 3 0 0 1 1 1 0 0 3",
    "sv_126na": "1 0 1 0 0 0 0 0 0 0 1",
    "sv_126u": "1 0 0 1 0 0 0 0 0 0 1",
    "sv_126ni": "2 0 0 0 0 0 0 0 1 1 0",
    "court_order": "1 0 1 0 0 0 0 0 0 0 1",
    "dispute_ruling": "1 0 1 0 0 0 0 0 0 0 1",
    "eu_production": "1 1 0 0 0 0 0 0 0 0 0",
}


def _rows(report: dict) -> dict[str, str]:
    from disclosures.selectors import BASIS_COLUMNS

    return {row["basis"]: " ".join(row[c] for c in BASIS_COLUMNS) for row in report["basis_table"]
            if any(row[c] != "0" for c in BASIS_COLUMNS)}


class TransparencyReportTests:
    def test_it_counts_every_kind_of_case_exactly(self, seeded, legal1, settings):
        report = _report(legal1, settings, threshold=1)  # nothing is under 1: every count as it is
        assert {k: report[k] for k in EXACT} == EXACT
        assert report["by_authority_kind"] == EXACT_KINDS
        assert report["by_outcome"] == EXACT_OUTCOMES
        assert _rows(report) == EXACT_ROWS
        assert report["by_basis"][str(LegalBasis.SV_126N.label)] == "7"

    def test_it_shows_counts_under_the_threshold_as_less_than_n(self, seeded, legal1, settings):
        report = _report(legal1, settings, threshold=3)
        assert {k: report[k] for k in EXACT} == {
            "total": "14", "emergency": "< 3", "preservation": "< 3", "preservations_renewed": "< 3",
            "preservations_converted": "< 3", "notices_sent": "< 3", "notices_withheld": "< 3",
            "accounts_affected": "5"}
        assert report["by_authority_kind"] == {"Police unit": "10", "Public prosecutor": "< 3", "Court": "< 3",
                                               "Dispute commission": "< 3", "Mediator": "0"}
        assert report["by_outcome"] == {"Full": "6", "Partial": "< 3", "Capped at the authority's request": "0",
                                        "No data": "< 3", "Rejected": "< 3"}
        assert _rows(report) == {
            "sv_126n": "7 < 3 3 0 0 < 3 < 3 < 3 0 0 3",
            "sv_126na": "< 3 0 < 3 0 0 0 0 0 0 0 < 3",
            "sv_126u": "< 3 0 0 < 3 0 0 0 0 0 0 < 3",
            "sv_126ni": "< 3 0 0 0 0 0 0 0 < 3 < 3 0",
            "court_order": "< 3 0 < 3 0 0 0 0 0 0 0 < 3",
            "dispute_ruling": "< 3 0 < 3 0 0 0 0 0 0 0 < 3",
            "eu_production": "< 3 < 3 0 0 0 0 0 0 0 0 0",
        }

    def test_the_page_the_csv_and_the_api_show_the_accounts_affected(self, seeded, client, legal1, settings):
        settings.DISCLOSURE_REPORT_THRESHOLD = 3
        c = verified_client(client, legal1)
        page = c.get(reverse("disclosures:report"), _half()).content.decode()
        assert 'id="accounts-affected">5<' in page
        cells = re.findall(r"<td[^>]*>(.*?)</td>", re.search(r'<tr id="basis-sv_126n"[^>]*>(.*?)</tr>', page).group(1))
        assert " ".join(cells).replace("&lt;", "<") == "7 < 3 3 0 0 < 3 < 3 < 3 0 0 3"  # the last: accounts
        lines = list(csv.reader(io.StringIO(c.get(reverse("disclosures:report"),
                                                  {**_half(), "format": "csv"}).content.decode())))
        assert [line[1:] for line in lines if line[1] in ("accounts_affected", "total")] == [
            ["total", "", "14"], ["accounts_affected", "", "5"]]
        assert ["basis:sv_126n", "accounts", "3"] in [line[1:] for line in lines]
        assert ["basis:sv_126na", "accounts", "< 3"] in [line[1:] for line in lines]
        api = _api(legal1).get("/api/v1/staff/disclosures/transparency/", _half()).json()
        assert api["accounts_affected"] == "5"
        assert {row["basis"]: row["accounts"] for row in api["basis_table"]}["court_order"] == "< 3"
