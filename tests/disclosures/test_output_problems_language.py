"""The output check's problems (problems.py) are shown in the officer's page language, each problem as well as the
sentence around them, while the refusal's message, what logs and commands get, stays English whatever the page's
language. Until the Dutch catalogue has them, a stand-in catalogue ("NL[...]" around every message looked up while
Dutch is active) shows which texts are looked up in the page's language; the last test checks the real Dutch."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.utils import translation
from django.utils.timezone import now

import voipxs.exceptions
from disclosures.models import DisclosureRequest, Package, Status
from disclosures.output_scope import RecordTally, ScopeRule, iso_second
from disclosures.selectors import Interval, Scope
from disclosures.services.transitions import disclosure_output_check
from tests.factories import make_cdr, verified_client
from voipxs.exceptions import ApplicationError

from .conftest import ALICE_NUMBER, OTHER, receive, to_state
from .test_package_rendering import _file, _restore

pytestmark = pytest.mark.django_db


@pytest.fixture
def row_short(legal1, legal2, legal3, authority, alice):
    """A produced package whose calls.csv lost a row after the build (its hash and manifest entry made to match)."""
    for days in (1, 2, 3):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=days))
    req = to_state(receive(legal1, authority), "produced", intake=legal1, approvers=[legal2, legal3])
    package = Package.objects.get(request=req)
    data = _file(package, "calls.csv")
    _restore(package, "calls.csv", data[:data.rindex(b"\r\n", 0, len(data) - 2) + 2])
    return req


@pytest.fixture
def stand_in_dutch(monkeypatch):
    real = voipxs.exceptions.gettext

    def looked_up(msgid: str) -> str:
        return f"NL[{msgid}]" if translation.get_language() == "nl" else real(msgid)

    monkeypatch.setattr(voipxs.exceptions, "gettext", looked_up)


def test_the_message_stays_english_and_each_problem_is_looked_up_in_the_shown_language(row_short, legal2,
                                                                                      stand_in_dutch):
    with translation.override("nl"), pytest.raises(ApplicationError) as refused:
        disclosure_output_check(actor=legal2, request=row_short)
    assert refused.value.message == ("The package cannot be handed over: calls.csv: 2 rows, the manifest says 3. "
                                     "Produce it again.")
    with translation.override("nl"):
        shown = refused.value.shown()
    assert shown == ("NL[The package cannot be handed over: NL[calls.csv: 2 rows, the manifest says 3]. "
                     "Produce it again.]")


def test_the_officer_s_page_shows_the_problems_in_its_language(client, row_short, legal2, stand_in_dutch):
    c = verified_client(client, legal2)
    c.cookies["django_language"] = "nl"
    page = c.post(f"/disclosures/requests/{row_short.pk}/check/").content.decode()
    assert "NL[calls.csv: 2 rows, the manifest says 3]" in page
    assert DisclosureRequest.objects.get(pk=row_short.pk).status == Status.PRODUCED


def test_the_officer_s_page_shows_the_problems_in_dutch(client, row_short, legal2):
    c = verified_client(client, legal2)
    c.cookies["django_language"] = "nl"
    page = c.post(f"/disclosures/requests/{row_short.pk}/check/").content.decode()
    assert "calls.csv: 2 rijen, het manifest zegt 3" in page


def test_a_record_out_of_scope_is_named_with_its_reason_each_in_the_shown_language(stand_in_dutch):
    window = Interval(datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 3, 2, tzinfo=timezone.utc))
    rule = ScopeRule(scope=Scope(request_id=1, window=window, numbers={}, accounts=frozenset(), categories=()),
                     max_hits=None, account_calls={})
    tally = RecordTally("calls.csv", rule, parse=iso_second)
    tally.add(record_id="7", numbers=["+31205550101"], starts=["2026-03-05T12:00:00+00:00"])
    [found] = tally.problems(None)
    assert str(found) == "calls.csv: record 1 is outside the approved scope (it starts outside the period asked for)"
    with translation.override("nl"):
        assert str(found) == ("NL[calls.csv: record 1 is outside the approved scope (NL[it starts outside the period "
                              "asked for])]")
