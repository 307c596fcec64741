"""Support had no way to see a customer's click-to-call set-ups: asked "the Call button does nothing", they could only
guess. The customer's card on the support desk now lists the account's set-ups of the last 30 days: when, from which
of its numbers, to which number (masked, the last digits hidden as on the other staff pages), how, and the outcome
(set up by the switch, or refused and why). Read under the purpose customer_support, recorded in the audit log; only
this customer's set-ups."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.models import PhoneNumber
from tests.factories import verified_client
from traffic.models import CallSetup
from traffic.services.call_setup import _refuse
from voipxs.models import AuditEntry
from voipxs.privacy.audit import target_ref

pytestmark = pytest.mark.django_db


@pytest.fixture
def setups(alice, bob):
    own = PhoneNumber.objects.get(user=alice)
    done = CallSetup.objects.create(user=alice, own_number=own, number="+31699993678", via=CallSetup.Via.EXTENSION,
                                    backend="fake", switch_reference="job-7f3a")
    CallSetup.objects.create(user=alice, own_number=own, number="+31699990001", via=CallSetup.Via.PORTAL,
                             backend="fake", created_at=now() - timedelta(days=31))  # older than the list
    CallSetup.objects.create(user=bob, own_number=PhoneNumber.objects.get(user=bob), number="+31699994444",
                             via=CallSetup.Via.PORTAL, backend="fake")
    _refuse(alice, "blocked_prefix", prefix_id=1)
    return done


def _card(client, support, alice, **headers) -> str:
    return verified_client(client, support).get(f"/support/customers/{alice.pk}/", **headers).content.decode()


class SupportCallSetupTests:
    def test_the_card_lists_the_customers_recent_set_ups_with_the_called_number_masked(self, client, support, alice,
                                                                                       setups):
        page = _card(client, support, alice)
        assert "Click-to-call set-ups" in page
        assert "+31699993•••" in page and "+31699993678" not in page
        assert "+31205550101" in page and "browser extension" in page and "job-7f3a" in page
        assert "Set up: the switch rang the customer" in page
        assert "Refused: a blocked prefix" in page
        assert "+31699990" not in page and "+31699994" not in page  # too old; another customer's

    def test_the_read_is_recorded_under_customer_support(self, client, support, alice, setups):
        _card(client, support, alice)
        entry = AuditEntry.objects.get(action="call_setup.support_list")
        expected = ("customer_support", "user", target_ref("user", alice.pk))
        assert (entry.purpose, entry.target_type, entry.target_id) == expected
        assert "+316" not in str(entry.extra)

    def test_without_set_ups_it_says_so(self, client, support, alice):
        assert "No click-to-call set-ups in the last 30 days." in _card(client, support, alice)

    def test_the_list_is_in_dutch(self, client, support, alice, setups):
        page = _card(client, support, alice, HTTP_ACCEPT_LANGUAGE="nl")
        assert "Click-to-call set-ups" not in page and "Set up: the switch rang the customer" not in page
