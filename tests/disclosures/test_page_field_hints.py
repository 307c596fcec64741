"""Fields an officer fills all day, each with what to put in it in sight and named by the input (aria-describedby):

- the delivery's encrypted channel said its example only as a placeholder, cut off in its narrow box beside the
  label ("for example: in person, o") and gone once the officer typed; it is a .field block, the example a hint under
  the input, as the receipt's is; the preservation's renewal reference is a .field block too;
- the register's "Source checked" box (marking an authority verified) did not say what to write in it; a hint says
  it is the official source the channels were compared with; the domains' and certificate's explanations under their
  boxes are named by them."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from disclosures.models import Authority, AuthorityKind, LegalBasis
from disclosures.services.authorities import authority_create
from tests.factories import verified_client

from .conftest import receive, to_state

pytestmark = pytest.mark.django_db

SOURCE_HINT = ("The official source you compared the channels with: a public register, the body's own website or "
               "directory.")


def _described(html: str, input_id: str) -> str:
    """The text of the element the input names first in aria-describedby."""
    tag = re.search(rf'<(?:input|textarea)[^>]*\bid="{input_id}"[^>]*>', html)
    assert tag, f"no {input_id}"
    named = re.search(r'aria-describedby="([^" ]+)', tag.group(0))
    assert named, f"{input_id} names no hint"
    hint = re.search(rf'<(p|span)[^>]*\bid="{named.group(1)}"[^>]*>(.*?)</\1>', html, re.S)
    assert hint, f"{input_id}'s hint {named.group(1)} is not on the page"
    return hint.group(2).strip()


def test_the_encrypted_channel_is_a_field_with_its_example_under_it(client, legal1, legal2, legal3, bare):
    req = to_state(receive(legal1, bare), "checked", intake=legal1, approvers=[legal2, legal3], checker=legal2)
    html = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
    assert _described(html, "secure_channel") == "for example: in person, on an encrypted USB stick"
    assert re.search(r'<div class="field"><label for="secure_channel">', html)
    assert "placeholder=" not in re.search(r'<input[^>]*id="secure_channel"[^>]*>', html).group(0)


def test_the_renewal_reference_is_a_field(client, legal1, legal2, legal3, authority):
    req = to_state(receive(legal1, authority, basis=LegalBasis.SV_126NI, deadline=None), "approved", intake=legal1,
                   approvers=[legal2, legal3])
    html = verified_client(client, legal1).get(reverse("disclosures:detail", args=[req.pk])).content.decode()
    assert re.search(r'<div class="field"><label for="order_reference">[^<]*</label> <input id="order_reference"', html)


@pytest.fixture
def unverified(legal2):
    return authority_create(actor=legal2, name="Parket Noord-Holland", kind=AuthorityKind.POLICE,
                            contact_phone="+31205559998")


def test_the_register_says_what_source_checked_holds(client, legal1, unverified):
    html = verified_client(client, legal1).get(reverse("disclosures:authorities")).content.decode()
    assert _described(html, f"note-{unverified.pk}") == SOURCE_HINT
    assert _described(html, f"domains-input-{unverified.pk}").startswith("A change takes effect when another")
    assert _described(html, f"certificate-input-{unverified.pk}").startswith("Packages for the authority are")
    assert Authority.objects.get(pk=unverified.pk).verified_at is None


def test_the_source_hint_is_dutch_on_the_dutch_register(client, legal1, unverified):
    c = verified_client(client, legal1)
    c.cookies["django_language"] = "nl"
    html = c.get(reverse("disclosures:authorities")).content.decode()
    assert '<html lang="nl">' in html and "The official source you compared" not in html
    assert _described(html, f"note-{unverified.pk}").startswith("De officiële bron waarmee u de kanalen")
