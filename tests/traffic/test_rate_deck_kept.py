"""A rate deck refused only for its date (none given, or one under a tariff that starts later) is kept for one
correction round: the page names the kept file, and the next post with a date previews it without the file being
chosen again (a browser cannot refill a file input). Only a well-formed deck is kept: a refused file may be anything
chosen by mistake (a call list, a customer export), so a file with a broken line is never stored. It is kept in the
cache for its uploader only, for KEPT_SECONDS, and taken out by its one use."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import make_user, verified_client
from traffic.services import tariffs as tariff_services
from traffic.views import tariffs as views
from voipxs.privacy.purposes import Role

pytestmark = pytest.mark.django_db

URL = "/calls/staff/tariffs/rate-deck/"
DECK = b"prefix,description,rate,increments\n316,NL mobile,0.0450,1/1\n3120,Amsterdam,0.0100,60/60\n"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _upload(client, body: bytes = DECK, **data):
    return client.post(URL, {"file": SimpleUploadedFile("may-deck.csv", body, content_type="text/csv"), **data})


def _kept_token(page: str) -> str:
    return re.search(r'name="kept" value="([^"]+)"', page).group(1)


class RateDeckKeptTests:
    def test_a_deck_without_a_date_is_kept_and_previewed_with_the_date_alone(self, client, billing_staff):
        verified_client(client, billing_staff)
        refused = _upload(client)
        page = refused.content.decode()
        assert refused.status_code == 400 and "may-deck.csv is kept from your last upload" in page
        preview = client.post(URL, {"kept": _kept_token(page), "valid_from": "2026-06-01"})
        assert preview.status_code == 200 and "2 new prefixes" in preview.content.decode()

    def test_a_deck_under_a_later_tariff_is_kept_for_another_date(self, client, billing_staff):
        tariff_services.tariff_create(prefix="316", zone="NL mobile", price_per_minute=Decimal("0.05"),
                                      valid_from=date(2026, 9, 1), actor=billing_staff)
        verified_client(client, billing_staff)
        refused = _upload(client, valid_from="2026-06-01")
        page = refused.content.decode()
        assert refused.status_code == 400 and "may-deck.csv" in page
        preview = client.post(URL, {"kept": _kept_token(page), "valid_from": "2026-10-01"})
        assert preview.status_code == 200 and "1 new prefixes, 1 new prices" in preview.content.decode()

    def test_it_is_kept_for_one_round_only(self, client, billing_staff):
        verified_client(client, billing_staff)
        token = _kept_token(_upload(client).content.decode())
        assert client.post(URL, {"kept": token, "valid_from": "2026-06-01"}).status_code == 200
        again = client.post(URL, {"kept": token, "valid_from": "2026-06-01"})
        assert again.status_code == 400 and "choose the file again" in again.content.decode()

    def test_another_uploader_cannot_use_it(self, client, billing_staff):
        verified_client(client, billing_staff)
        token = _kept_token(_upload(client).content.decode())
        verified_client(client, make_user("billing2", roles=(Role.BILLING,), totp=True))
        other = client.post(URL, {"kept": token, "valid_from": "2026-06-01"})
        assert other.status_code == 400 and "2 new prefixes" not in other.content.decode()

    @pytest.mark.parametrize("token", ["", "x" * 5000, "../../etc", "a b c"])
    def test_a_made_up_token_is_a_form_error_at_the_file(self, client, billing_staff, token):
        verified_client(client, billing_staff)
        refused = client.post(URL, {"kept": token, "valid_from": "2026-06-01"})
        page = refused.content.decode()
        assert refused.status_code == 400 and "errorlist" in page and "Preview" in page

    def test_a_file_with_a_broken_line_is_never_kept(self, client, billing_staff):
        """It may be any file chosen by mistake, with personal data: nothing of it is stored."""
        verified_client(client, billing_staff)
        stored = []
        original = views.cache.set
        views.cache.set = lambda *args, **kwargs: stored.append(args) or original(*args, **kwargs)
        try:
            page = _upload(client, b"+31205550101,Jan Jansen,Kerkstraat 1\n").content.decode()
            without_date = _upload(client, b"+31205550101,Jan Jansen,Kerkstraat 1\n", valid_from="").content.decode()
        finally:
            views.cache.set = original
        assert stored == [] and 'name="kept"' not in page + without_date

    def test_the_dutch_page_says_it_in_dutch(self, client, billing_staff):
        verified_client(client, billing_staff)
        client.cookies["django_language"] = "nl"
        page = _upload(client).content.decode()
        assert '<html lang="nl">' in page and "may-deck.csv" in page and "is kept from your last upload" not in page
        assert "is bewaard van uw vorige upload" in page
        gone = client.post(URL, {"kept": "x" * 32, "valid_from": "2026-06-01"}).content.decode()
        assert "choose the file again" not in gone and "kies het bestand opnieuw" in gone
