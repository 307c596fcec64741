"""A change to the register of authorities sent without its box ticked was refused with "Tick the box to confirm this
step." whatever the change: the banner, at the top of a page with five boxes on every row, said neither which change
nor what the tick stands for. Each change is now refused with its own sentence: what the tick confirms (for marking
an authority verified, that its channels were checked against an official register or source), for which
authority, and that nothing was done; the change is not made."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from disclosures.models import Authority, AuthorityKind
from disclosures.services.authorities import authority_certificate_set, authority_create, authority_domains_set
from tests.factories import verified_client

from .certificates import police_recipient

pytestmark = pytest.mark.django_db


@pytest.fixture
def body(legal1, legal2):
    """Registered by legal2 and not yet verified, a change of its domains and of its certificate proposed by legal2:
    legal1 may verify it and confirm both."""
    created = authority_create(actor=legal2, name="Parket Noord-Holland", kind=AuthorityKind.POLICE,
                               contact_phone="+31205559998", email_domains=["om.nl"])
    authority_domains_set(actor=legal2, authority=created, email_domains=["om.nl", "politie.nl"])
    authority_certificate_set(actor=legal2, authority=created, certificate=police_recipient().certificate_pem)
    return Authority.objects.get(pk=created.pk)


def _state(body) -> tuple:
    a = Authority.objects.get(pk=body.pk)
    return (a.verified_at, a.email_domains, a.email_domains_proposed, a.certificate, a.certificate_proposed)


def _banner(html: str) -> str:
    found = re.search(r'<ul class="messages">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


# The change's URL name, what it posts beside its box, and the refusal's sentence.
CHANGES = {
    "authority-verify": ({"note": "checked against the official register"},
                         "Tick the box to confirm that you checked the contact channels of Parket Noord-Holland "
                         "against an official register or source yourself: it was not marked verified."),
    "authority-domains": ({"email_domains": "om.nl"},
                          "Tick the box to confirm that the e-mail domains of Parket Noord-Holland come from an "
                          "official source, not a request letter: no change was proposed."),
    "authority-domains-confirm": ({"proposed_domains": "om.nl,politie.nl"},
                                  "Tick the box to confirm that you checked the proposed e-mail domains of Parket "
                                  "Noord-Holland against an official source yourself: nothing changed."),
    "authority-certificate": ({"certificate": ""},
                              "Tick the box to confirm that you compared the certificate&#x27;s SHA-256 fingerprint "
                              "with Parket Noord-Holland on a channel of the register: no change was proposed."),
    "authority-certificate-confirm": ({"proposed_sha256": "0" * 64},
                                      "Tick the box to confirm that you compared the proposed certificate&#x27;s "
                                      "fingerprint with Parket Noord-Holland yourself: nothing changed."),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_an_unticked_box_is_refused_saying_what_the_tick_confirms(client, legal1, body, change):
    data, sentence = CHANGES[change]
    before = _state(body)
    page = verified_client(client, legal1).post(reverse(f"disclosures:{change}", args=[body.pk]), data, follow=True)
    banner = _banner(page.content.decode())
    assert sentence in banner and "Tick the box to confirm this step." not in banner
    assert _state(body) == before


def test_each_change_says_something_of_its_own():
    assert len({sentence for _, sentence in CHANGES.values()}) == len(CHANGES)


def test_the_refusal_is_dutch_on_the_dutch_page(client, legal1, body):
    c = verified_client(client, legal1)
    c.cookies["django_language"] = "nl"
    page = c.post(reverse("disclosures:authority-verify", args=[body.pk]), {"note": "register"}, follow=True)
    html = page.content.decode()
    assert '<html lang="nl">' in html and "Parket Noord-Holland" in _banner(html)
    assert "Tick the box" not in html
    assert "Vink het vakje aan om te bevestigen dat u de contactkanalen van Parket Noord-Holland" in _banner(html)
