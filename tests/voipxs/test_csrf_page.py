"""A form sent without its security token (a page left open past its session, cookies blocked, a forged post from
another site) is refused with 403, as Django refuses it; the person sees the site's page, in their language, saying
what happened and what to do, not Django's bare English page about "CSRF verification"."""
from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import verified_client

pytestmark = pytest.mark.django_db


def _post_without_token(user, *, language: str = "en"):
    client = verified_client(Client(enforce_csrf_checks=True), user)
    client.cookies["django_language"] = language
    return client.post("/privacy-requests/", {"kind": "access"})


def test_a_customer_sees_the_sites_page_saying_to_reload_the_form(alice):
    response = _post_without_token(alice)
    page = response.content.decode()
    assert response.status_code == 403
    assert 'id="refusal-reason"' in page and "reload the page" in page
    assert "CSRF verification failed" not in page
    assert '<nav' in page  # the site's layout, with its navigation


def test_a_dutch_customer_reads_it_in_dutch(alice):
    page = _post_without_token(alice, language="nl").content.decode()
    assert '<html lang="nl"' in page and "Niet toegestaan" in page and "laad de pagina opnieuw" in page

