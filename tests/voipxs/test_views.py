"""The base layout, the home page of each role, the privacy policy page, languages and time zone."""
from __future__ import annotations

import re
from datetime import datetime, timezone as dt_timezone
from pathlib import Path

import pytest
from django.utils.html import escape

from accounts.models import User
from tests.factories import make_user, verified_client
from voipxs.privacy.purposes import Role

ROOT = Path(__file__).resolve().parents[2]
POLICY = Path("/work/shared/seed/privacy-policy.txt")
POLICY_IN_REPO = ROOT / "voipxs" / "privacy-policy.txt"


@pytest.mark.django_db
class WelcomePageTests:
    def test_it_greets_an_anonymous_visitor_with_a_sign_in_link(self, client):
        response = client.get("/")
        html = response.content.decode()
        assert response.status_code == 200
        assert '<html lang="en">' in html
        assert 'href="/accounts/login/"' in html
        assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html

    def test_it_loads_nothing_from_another_host(self, client):
        html = client.get("/").content.decode()
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
        assert external == []
        assert 'href="/static/css/site.css"' in html


class TemplatesTests:
    def test_it_references_no_cdn_in_any_template(self):
        offenders = []
        for path in ROOT.glob("*/templates/**/*.html"):
            offenders += [f"{path}: {m}" for m in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', path.read_text())]
        for path in (ROOT / "templates").rglob("*.html"):
            offenders += [f"{path}: {m}" for m in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', path.read_text())]
        assert offenders == []

    def test_it_gives_every_role_its_own_links_on_the_one_home_page(self):
        for role in Role.values:
            assert (ROOT / "templates" / "voipxs" / "home" / f"{role}.html").exists(), role
        assert not list((ROOT / "templates" / "voipxs").glob("home_*.html"))  # one home template


@pytest.mark.django_db
class HomeLinksTests:
    @pytest.mark.parametrize("role,link", [
        (Role.CUSTOMER, "/calls/"), (Role.DPO, "/retention/"), (Role.LEGAL_OFFICER, "/disclosures/"),
        (Role.BILLING, "/calls/staff/invoices/"), (Role.ADMIN, "/admin/"),
        (Role.NOC, "/calls/staff/imports/"), (Role.NOC, "/calls/staff/sources/"),
        (Role.FRAUD, "/calls/staff/blocked-prefixes/"),
    ])
    def test_it_shows_each_role_its_links(self, client, role, link):
        user = make_user(f"home-{role}", roles=(role,), totp=role != Role.CUSTOMER)
        html = verified_client(client, user).get("/").content.decode()
        assert f'href="{link}"' in html
        assert "<title>" in html and str(Role(role).label) in html

    @pytest.mark.parametrize("roles, shown", [
        ((Role.CUSTOMER,), True), ((Role.CONTRACTOR_ADMIN,), True), ((Role.BILLING,), False), ((Role.DPO,), False),
        ((Role.SUPPORT,), False), ((Role.LEGAL_OFFICER,), False), ((Role.DPO, Role.CUSTOMER), True),
        ((Role.NOC,), False), ((Role.FRAUD,), False),
    ])
    def test_it_offers_my_numbers_to_those_who_hold_numbers_not_to_staff(self, client, roles, shown):
        """Staff hold no numbers, unless they are customers too."""
        user = make_user("home-" + "-".join(roles), roles=roles, totp=roles != (Role.CUSTOMER,))
        html = verified_client(client, user).get("/").content.decode()
        assert ('href="/accounts/numbers/"' in html) is shown and ("My numbers" in html) is shown


@pytest.mark.django_db
class PrivacyPolicyPageTests:
    def test_it_shows_the_whole_policy_text(self, client):
        html = client.get("/privacy/").content.decode()
        lines = [line.strip().lstrip("• ").strip() for line in POLICY_IN_REPO.read_text().splitlines() if line.strip()]
        missing = [line[:60] for line in lines if escape(line) not in html]
        assert missing == []
        assert len(lines) > 10

    def test_it_is_the_clients_policy(self):
        if not POLICY.exists():
            pytest.skip("the shared seed policy is not on this machine")
        assert POLICY_IN_REPO.read_text() == POLICY.read_text()

    def test_it_links_each_article_from_the_contents(self, client):
        html = client.get("/privacy/").content.decode()
        for n in (1, 2, 3, 4):
            assert f'<a href="#article-{n}">Article {n}:' in html
            assert f'<h2 id="article-{n}">Article {n}:' in html
        assert "<li>Personal Data:" in html

    def test_it_is_public(self, client):
        assert client.get("/privacy/").status_code == 200


HOMES = [
    ("alice", "Customer", "customer"),
    ("acme_admin", "Contractor admin", "contractor_admin"),
    ("billing_staff", "Billing staff", "billing"),
    ("legal1", "Legal officer", "legal_officer"),
    ("dpo", "Data protection officer", "dpo"),
    ("support", "Support", "support"),
    ("admin_user", "Administrator", "admin"),
    ("noc", "Network operations", "noc"),
    ("fraud_analyst", "Fraud analyst", "fraud"),
]


@pytest.mark.django_db
class HomePageTests:
    @pytest.mark.parametrize("persona, label, role", HOMES)
    def test_it_shows_each_role_its_own_home(self, request, client, persona, label, role):
        user = request.getfixturevalue(persona)
        response = verified_client(client, user).get("/")
        assert response.status_code == 200
        names = [t.name for t in response.templates]
        assert names[0] == "voipxs/home.html" and f"voipxs/home/{role}.html" in names
        html = response.content.decode()
        assert f"Welcome, {user.username}" in html
        assert f'<p class="role">{label}' in html
        assert 'action="/accounts/logout/"' in html

    def test_it_does_not_show_a_customer_the_staff_admin(self, client, alice):
        html = verified_client(client, alice).get("/").content.decode()
        assert "/admin/" not in html

    @pytest.mark.parametrize("utc, shown", [
        (datetime(2026, 7, 1, 12, 0, tzinfo=dt_timezone.utc), "1 July 2026 14:00 CEST"),
        (datetime(2026, 1, 15, 12, 0, tzinfo=dt_timezone.utc), "15 January 2026 13:00 CET"),
    ])
    def test_it_shows_times_in_amsterdam(self, client, alice, utc, shown):
        verified_client(client, alice)
        User.objects.filter(pk=alice.pk).update(last_login=utc)  # stored in UTC
        html = client.get("/").content.decode()
        assert f"Signed in at {shown}" in html


@pytest.mark.django_db
class LanguageTests:
    def test_it_offers_english_and_dutch_in_the_footer(self, client):
        html = client.get("/privacy/").content.decode()
        assert 'action="/i18n/setlang/"' in html
        assert '<option value="en" lang="en" selected>English</option>' in html
        assert '<option value="nl" lang="nl">Nederlands</option>' in html

    def test_it_switches_the_site_to_dutch(self, client):
        response = client.post("/i18n/setlang/", {"language": "nl", "next": "/privacy/"}, follow=True)
        html = response.content.decode()
        assert response.redirect_chain[-1][0] == "/privacy/"
        assert '<html lang="nl">' in html
        assert "Privacybeleid" in html  # from locale/nl
        assert '<option value="nl" lang="nl" selected>Nederlands</option>' in html


@pytest.mark.django_db
class StaticFilesTests:
    def test_it_serves_our_stylesheet_and_icon_from_our_own_server(self, client):
        css = client.get("/static/css/site.css")
        icon = client.get("/static/img/favicon.svg")
        assert css.status_code == 200 and b".skip-link" in b"".join(css.streaming_content)
        assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"


@pytest.mark.django_db
class ErrorPageTests:
    def test_it_shows_our_own_not_found_page(self, client):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        html = response.content.decode()
        assert "Page not found" in html and 'href="/static/css/site.css"' in html

    def test_it_has_a_server_error_page_that_needs_no_request(self):
        from django.template.loader import render_to_string

        html = render_to_string("500.html")  # rendered without context, as Django's handler does
        assert "Something went wrong" in html and "/static/css/site.css" in html
