"""Hostile values in the Django admin's add and change forms, as a superuser (past the second factor), for every
registered model whose add or change page opens: each form field gets values that made servers fail before (a long
text, the calendar's edges and a day that does not exist, numbers past bigint, NaN and Infinity, thirty digits, a
field sent twice, a NUL byte, bytes that are no UTF-8), first all fields at once, then each field alone on top of
the form as the page filled it. A form with errors (200) or a refusal (400, 403) is fine; a server error is not.
The values per field are a fixed sample (seeded by model and field): the same every run, a few seconds a model."""
from __future__ import annotations

import random
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.factories import verified_client

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

LONG = "x" * 20_000
VALUES = [LONG, "0001-01-01", "9999-12-31", "9999-12-31 23:59:59.999999", "2026-02-30", "0000-00-00", "10000-01-01",
          "23:59:60", str(2 ** 63), str(2 ** 64), "-" + str(2 ** 63 + 1), "9" * 40, "NaN", "Infinity", "-Infinity",
          "1" * 30, "0." + "1" * 30, "1e400", "{'a': 1}", "[1, 2]", "-1", "\u202e\ufeff", ""]
PER_FIELD = 3
FORM = "application/x-www-form-urlencoded"


class _FormFields(HTMLParser):
    """The named fields of the page's change form, with the values the page filled in (unchecked boxes left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "file", "button", "image"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
            self.fields.append((name, ""))
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))

    def handle_data(self, data):
        if self._textarea:
            self.fields[-1] = (self._textarea, self.fields[-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _fields(html: str) -> list[tuple[str, str]]:
    parser = _FormFields()
    parser.feed(html)
    return [(k, v) for k, v in parser.fields if k != "csrfmiddlewaretoken"]


def _pages(model, model_admin) -> list[str]:
    info = model._meta.app_label, model._meta.model_name
    pages = []
    try:
        pages.append(reverse("admin:%s_%s_add" % info))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse("admin:%s_%s_change" % info, args=[first.pk]))
    except NoReverseMatch:
        pass
    return pages


@pytest.fixture
def superuser(admin_user):
    from accounts.models import User

    User.objects.filter(pk=admin_user.pk).update(is_superuser=True, is_staff=True)
    admin_user.refresh_from_db()
    return admin_user


@pytest.fixture
def world(alice, acme_admin, billing_staff, legal1):
    """Something on each change page: a customer, a contractor, a number, a source, a tariff, an authority."""
    from disclosures.models import AuthorityKind
    from disclosures.services.authorities import authority_create
    from traffic.services.sources import source_create
    from traffic.services.tariffs import tariff_create

    source_create(name="pbx-admin-fuzz", format="asterisk-csv", timezone="Europe/Amsterdam")
    tariff_create(prefix="3120555", zone="x", price_per_minute="0.01", valid_from=date.today(), actor=billing_staff)
    authority_create(actor=legal1, name="Politie Eenheid Fuzz", kind=AuthorityKind.POLICE,
                     contact_phone="020 555 9999")


def _post(client, url: str, pairs: list[tuple[str, str]]):
    return client.post(url, urlencode(pairs).encode(), content_type=FORM)


@pytest.mark.parametrize("label", sorted(m._meta.label for m in admin.site._registry))
def test_no_hostile_value_in_an_admin_form_is_a_server_error(label, superuser, world):
    model = next(m for m in admin.site._registry if m._meta.label == label)
    client = verified_client(Client(), superuser)
    failures, tried = [], 0
    for url in _pages(model, admin.site._registry[model]):
        page = client.get(url)
        if page.status_code != 200:
            assert page.status_code < 500, f"GET {url} -> {page.status_code}"
            continue
        base = _fields(page.content.decode())
        names = list(dict.fromkeys(k for k, _ in base))
        attempts = [[(k, value) for k in names] for value in VALUES]  # every field at once
        attempts += [[(k, "a\x00b") for k in names], base + base]  # NUL; every field sent twice
        for name in names:
            sample = random.Random(f"{label}:{name}").sample(VALUES, PER_FIELD)
            attempts += [[(k, v) for k, v in base if k != name] + [(name, value)] for value in sample]
            attempts.append(base + [(name, "second")])
        for pairs in attempts:
            response = _post(client, url, pairs)
            tried += 1
            if response.status_code >= 500:
                failures.append(f"POST {url} {dict(pairs)!r:.200} -> {response.status_code}")
        raw = client.post(url, b"\xff\xfe=\xff&" + urlencode(base).encode(), content_type=FORM)
        if raw.status_code >= 500:
            failures.append(f"POST {url} invalid UTF-8 -> {raw.status_code}")
    assert failures == [], "\n".join(failures)
