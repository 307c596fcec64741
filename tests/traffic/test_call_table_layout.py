"""The call table's markup that the phone layout in site.css relies on (issue 13 item 1): each cell
names its column, the details a phone hides from the row are one tap away in a <details>, and the
price is money in the page's language (voipxs/money.py)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from tests.factories import make_cdr, verified_client

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


def _first_row(body: str) -> str:
    tbody = body[body.index("<tbody>"):body.index("</tbody>")]
    return re.findall(r"<tr>(.*?)</tr>", tbody, flags=re.S)[0]


class CallTableLayoutTests:
    def test_each_cell_names_its_column_and_the_rest_is_in_details(self, client, alice):
        make_cdr(account=alice, dst="+31699993678", started_at=T0, price=Decimal("0.13"), caller_name="Bakker, P.")
        row = _first_row(verified_client(client, alice).get("/calls/").content.decode())
        classes = re.findall(r'<td class="(?:num |number )?(c-[a-z]+)"', row)
        assert classes == ["c-date", "c-dir", "c-own", "c-other", "c-name", "c-result", "c-dur", "c-zone", "c-price", "c-more"]
        details = row[row.index("<details>"):row.index("</details>")]
        assert "<summary>Details</summary>" in details
        assert "<dt>Caller name</dt><dd>Bakker, P.</dd>" in details and "<dt>Zone</dt><dd>NL mobile</dd>" in details
        assert '<td class="num c-price">&euro;0.1300</td>' in row  # money as everywhere (voipxs/money.py)

    def test_the_dutch_page_prices_with_a_decimal_comma(self, client, alice):
        make_cdr(account=alice, started_at=T0, price=Decimal("0.13"))
        verified_client(client, alice)
        client.cookies["django_language"] = "nl"
        row = _first_row(client.get("/calls/").content.decode())
        assert '<td class="num c-price">&euro;&nbsp;0,1300</td>' in row and "<summary>Meer gegevens</summary>" in row

    def test_month_names_are_cased_as_each_language_writes_them(self, client, alice):
        make_cdr(account=alice, started_at=T0)
        verified_client(client, alice)
        english = _first_row(client.get("/calls/").content.decode())
        client.cookies["django_language"] = "nl"
        dutch = _first_row(client.get("/calls/").content.decode())
        assert '<span class="number">10 Mar 2026</span>' in english
        assert '<span class="number">10 mrt 2026</span>' in dutch  # Dutch writes month names in lower case

    def test_a_month_abbreviation_is_of_the_local_date(self):
        late = Template("{% load traffic_tags %}{{ at|month_abbr }}; {{ at|day_month_time }}")
        at = datetime(2026, 1, 31, 23, 30, tzinfo=timezone.utc)  # 00:30 on 1 February in Amsterdam
        with translation.override("nl"):
            assert late.render(Context({"at": at})) == "feb; 1 feb 2026 00:30:00"
        with translation.override("en"):
            assert late.render(Context({"at": at})) == "Feb; 1 Feb 2026 00:30:00"

    def test_the_contractor_details_name_the_user(self, client, acme_admin, bob):
        make_cdr(account=bob, src="+31205550201", dst="+31699991111", started_at=T0)
        row = _first_row(verified_client(client, acme_admin).get("/calls/contractor/").content.decode())
        assert '<td class="c-user">bob</td>' in row and "<dt>User</dt><dd>bob</dd>" in row
