"""Click-to-call refusals that formatting must not get around: a blocked prefix stays blocked when the number
is typed in other digits (fullwidth, as a phone keyboard or a copied web page may give them), the switch only
ever gets ASCII E.164, and a fraud analyst cannot store a prefix that never matches a number (a national
'0900', an international '00881' kept with its zeros, or digits of another script)."""
from __future__ import annotations

import pytest

from tests.factories import verified_client
from tests.traffic.call_setup_helpers import post, switch_settings, token_for
from tests.traffic.switch_fakes import FakeAmi
from traffic.callsetup.base import CallRequest
from traffic.models import BlockedPrefix, CallSetup

pytestmark = pytest.mark.django_db

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def mixed(prefix: str, rest: str) -> str:
    """ASCII `prefix` (a trunk 0, +31, 0031), then the number's own digits in fullwidth form."""
    return prefix + rest.translate(FULLWIDTH)


def exten_sent(fake: FakeAmi) -> str:
    originate = next(m for m in fake.received if "Action: Originate" in m)
    return next(line.split(": ", 1)[1] for line in originate.split("\r\n") if line.startswith("Exten: "))


@pytest.mark.parametrize("clicked", [mixed("0", "699990001"), mixed("+31", "699990001"), mixed("0031", "699990001"),
                                     "06 9999 0001".translate(FULLWIDTH)])
def test_a_blocked_prefix_in_fullwidth_digits_is_still_refused(client, alice, clicked):
    BlockedPrefix.objects.create(prefix="3169999", reason="fraud")
    with FakeAmi() as fake, switch_settings("asterisk", fake.port):
        response = post(client, token_for(alice), {"number": clicked})
    assert response.status_code == 400 and response.json()["reason"] == "fraud"
    assert fake.received == [] and not CallSetup.objects.exists()


@pytest.mark.parametrize("clicked", [mixed("0", "205550199"), mixed("+31", "205550199"),
                                     "020 555 0199".translate(FULLWIDTH)])
def test_the_switch_gets_ascii_e164_for_fullwidth_digits(client, alice, clicked):
    with FakeAmi() as fake, switch_settings("asterisk", fake.port):
        response = post(client, token_for(alice), {"number": clicked})
    assert response.status_code == 201, response.content
    assert exten_sent(fake) == "+31205550199" and response.json()["number"] == "+31205550199"


@pytest.mark.parametrize("number", ["+31２０５５５０１９９", "+31²05550199", "+٣١٢٠٥٥٥٠١٩٩"])
def test_a_call_request_takes_ascii_digits_only(number):
    with pytest.raises(ValueError):
        CallRequest(own_number="+31205550101", number=number)


@pytest.mark.parametrize("typed", ["0900", "0", "٣١٩٠٠", "３１９００"])
def test_a_prefix_that_never_matches_an_e164_number_is_not_stored(client, fraud_analyst, typed):
    verified_client(client, fraud_analyst)
    response = client.post("/calls/staff/blocked-prefixes/", {"prefix": typed, "reason": "premium_rate"})
    assert response.status_code == 400 and "1 to 15 digits" in response.content.decode()
    assert not BlockedPrefix.objects.filter(created_by=fraud_analyst).exists()


def test_a_prefix_typed_with_00_is_stored_as_its_e164_digits(client, fraud_analyst):
    verified_client(client, fraud_analyst)
    response = client.post("/calls/staff/blocked-prefixes/", {"prefix": "00870", "reason": "satellite"})
    assert response.status_code == 302
    assert list(BlockedPrefix.objects.filter(created_by=fraud_analyst).values_list("prefix", flat=True)) == ["870"]
