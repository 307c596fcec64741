"""A refusal of the retention services in the admin is a message on the form, not a server error (500): the hold the
DPO adds is placed through legal_hold_place, which refuses what the form lets through (a reference reserved for
disclosure requests, a phone number in the reference, no account or number, an account no one has). The form comes
back with what the DPO entered and the refusal on it, at its field where the form has that field: before, it came back
empty, everything typed in lost."""
from __future__ import annotations

import html

import pytest

from retention.models import LegalHold
from tests.factories import verified_client

pytestmark = pytest.mark.django_db

URL = "/admin/retention/legalhold/add/"


def _add(client, dpo, **changes):
    client.raise_request_exception = False
    data = {"reason": "dispute", "reference": "geschil-12", "account_ids": "[]", "number_indexes": "[]",
            "categories": '["cdr_billed"]', "starts_at_0": "2026-12-01", "starts_at_1": "10:00:00", **changes}
    return verified_client(client, dpo).post(URL, data, follow=True)


@pytest.mark.parametrize(("changes", "refusal"), [
    ({"reference": "disclosure:5", "account_ids": "[{alice}]"}, "reserved for holds of disclosure requests"),
    ({"reference": "case 020 555 0101", "account_ids": "[{alice}]"}, "must not contain a phone number"),
    ({}, "needs at least one account or number"),
    ({"account_ids": "[987654321]"}, "No account has the id 987654321."),
])
def test_a_refused_hold_is_shown_on_the_form_and_nothing_is_placed(client, dpo, alice, changes, refusal):
    changes = {k: v.replace("{alice}", str(alice.pk)) for k, v in changes.items()}
    response = _add(client, dpo, **changes)
    page = html.unescape(response.content.decode())
    assert response.status_code == 200 and response.redirect_chain == []  # the same form, not a fresh one
    assert refusal in page and "successfully" not in page
    assert not LegalHold.objects.exists()


def test_a_refused_hold_keeps_what_was_entered_with_the_refusal_at_its_field(client, dpo, alice):
    response = _add(client, dpo, reference="case 020 555 0101", account_ids=f"[{alice.pk}]",
                    window_start_0="2026-11-01", window_start_1="00:00:00", expires_at_0="2027-06-30",
                    expires_at_1="12:00:00")
    page = html.unescape(response.content.decode())
    assert response.status_code == 200 and not LegalHold.objects.exists()
    assert 'value="case 020 555 0101"' in page and f"[{alice.pk}]" in page
    assert 'value="2026-11-01"' in page and 'value="2027-06-30"' in page and 'value="2026-12-01"' in page
    assert '<option value="dispute" selected>' in page
    at_field = page.index('id="id_reference_error"')  # Django's admin: the field's own error list
    assert "must not contain a phone number" in page[at_field:at_field + 300]

