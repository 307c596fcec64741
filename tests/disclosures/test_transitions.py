"""The one transitions table (disclosures/transitions.py): the API and the pages both dispatch through
it, every step the detail page offers is a row, and every row the API offers has exactly one view."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from disclosures import api, api_urls
from disclosures.transitions import TRANSITIONS
from tests.factories import verified_client

from .conftest import receive

pytestmark = pytest.mark.django_db

DETAIL_TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "disclosures" / "detail.html"


def _transition_views() -> list[type[api.TransitionApi]]:
    classes = [getattr(p.callback, "view_class", None) for p in api_urls.urlpatterns]
    return [cls for cls in classes if cls is not None and issubclass(cls, api.TransitionApi)]


class TableTests:
    def test_every_step_of_the_detail_page_is_a_row(self):
        offered = set(re.findall(r"'disclosures:transition' req\.pk '([a-z-]+)'", DETAIL_TEMPLATE.read_text()))
        assert offered and offered <= set(TRANSITIONS)

    def test_every_api_row_has_exactly_one_view_and_every_view_a_row(self):
        steps = [view.step for view in _transition_views()]
        assert sorted(steps) == sorted(name for name, row in TRANSITIONS.items() if row.api)


class OneTableTests:
    def test_the_page_and_the_api_run_the_same_row(self, monkeypatch, client, legal1, authority):
        req = receive(legal1, authority)
        calls = []

        def service(*, actor, request, **inputs):
            calls.append((actor.pk, request.pk, inputs))

        monkeypatch.setitem(TRANSITIONS, "reject", replace(TRANSITIONS["reject"], service=service))
        verified_client(client, legal1)
        assert client.post(f"/disclosures/requests/{req.pk}/reject/", {"note": "from the page", "confirm": "yes"}).status_code == 302
        api_client = APIClient()
        verified_client(api_client, legal1)
        r = api_client.post(f"/api/v1/staff/disclosures/requests/{req.pk}/reject/", {"note": "over the API"},
                            format="json")
        assert r.status_code == 200
        assert calls == [(legal1.pk, req.pk, {"reason": "from the page"}), (legal1.pk, req.pk, {"reason": "over the API"})]

    def test_a_row_s_role_decides_who_may_take_the_step_on_both(self, monkeypatch, client, legal1, authority):
        req = receive(legal1, authority)
        monkeypatch.setitem(TRANSITIONS, "review", replace(TRANSITIONS["review"], role="dpo"))
        verified_client(client, legal1)
        assert client.post(f"/disclosures/requests/{req.pk}/review/").status_code == 404
        api_client = APIClient()
        verified_client(api_client, legal1)
        assert api_client.post(f"/api/v1/staff/disclosures/requests/{req.pk}/start-review/").status_code == 403
