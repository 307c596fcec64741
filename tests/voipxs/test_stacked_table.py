"""`{% stacked_table %}` (voipxs/templatetags/voipxs_tables.py): on a phone a staff list table is a card per row,
and every cell carries its column's heading, in the page's language, for the card to show beside the value."""
from __future__ import annotations

import re
from html import unescape

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.factories import verified_client

TABLE = """{% load i18n voipxs_tables %}{% stacked_table %}<div class="table-wrap" tabindex="0"><table class="table" id="t">
<thead><tr><th scope="col">{% translate "Request" %}</th><th scope="col">{% translate "Received" %}</th>
<th scope="col"><span class="visually-hidden">{% translate "Actions" %}</span></th></tr></thead>
<tbody>{% for r in rows %}<tr id="row-{{ r }}"><td><a href="/r/{{ r }}/">#{{ r }}</a></td><td class="num">{{ r }} Dec</td>
<td><form><button>Go</button></form></td></tr>{% empty %}<tr><td colspan="3">{% translate "No open requests." %}</td></tr>{% endfor %}</tbody>
</table></div>{% endstacked_table %}"""


def _render(source: str = TABLE, **context) -> str:
    return Template(source).render(Context(context))


def _cells(html: str) -> list[tuple[str, str]]:
    """(data-label, text) of every body cell."""
    cells = []
    for attributes, text in re.findall(r"<t[dh]\b([^>]*)>(.*?)</t[dh]>", html.split("<tbody", 1)[1], re.S):
        label = re.search(r'data-label="([^"]*)"', attributes)
        cells.append((unescape(label.group(1)) if label else "", re.sub(r"<[^>]+>", "", text).strip()))
    return cells


class StackedTableTests:
    def test_every_body_cell_carries_its_columns_heading(self):
        html = _render(rows=[1, 2])
        assert _cells(html) == [("Request", "#1"), ("Received", "1 Dec"), ("Actions", "Go"),
                                ("Request", "#2"), ("Received", "2 Dec"), ("Actions", "Go")]
        assert '<table class="table stacked" id="t" role="table">' in html  # the CSS of the cards applies

    def test_the_headings_are_the_pages_language(self):
        with translation.override("nl"):
            html = _render(rows=[1])
        assert [label for label, _text in _cells(html)] == ["Verzoek", "Ontvangen", "Acties"]

    def test_the_table_keeps_its_semantics_for_screen_readers(self):
        html = _render(rows=[1])
        assert html.count('role="columnheader"') == 3 and html.count('role="row"') == 2
        assert html.count('role="rowgroup"') == 2 and html.count('role="cell"') == 3
        assert '<tr id="row-1" role="row">' in html  # what the template wrote comes first, unchanged

    def test_a_message_across_the_table_has_no_heading(self):
        html = _render(rows=[])
        assert _cells(html) == [("", "No open requests.")]
        assert 'colspan="3" role="cell">' in html

    def test_a_heading_is_one_escaped_line(self):
        html = _render("""{% load voipxs_tables %}{% stacked_table %}<table class="table"><thead><tr>
            <th colspan="2">Said &quot;no&quot;
            &amp; <em>why</em></th><th>Row</th></tr></thead><tbody><tr><th scope="row">A</th><td>B</td><td>C</td></tr>
            </tbody></table>{% endstacked_table %}""")
        assert 'data-label="Said &quot;no&quot; &amp; why" role="rowheader">A</th>' in html
        assert _cells(html) == [('Said "no" & why', "A"), ('Said "no" & why', "B"), ("Row", "C")]

    def test_a_table_inside_a_cell_is_left_as_it_is(self):
        html = _render("""{% load voipxs_tables %}{% stacked_table %}<table class="table"><thead><tr><th>Outer</th></tr></thead>
            <tbody><tr><td><table class="inner"><tr><td>x</td></tr></table></td></tr></tbody></table>{% endstacked_table %}""")
        assert '<table class="inner"><tr><td>x</td></tr></table>' in html
        assert html.count("data-label=") == 1 and html.count("stacked") == 1

    def test_what_a_template_set_itself_wins(self):
        html = _render("""{% load voipxs_tables %}{% stacked_table %}<table class="table" role="grid"><thead><tr><th>H</th>
            </tr></thead><tbody><tr><td data-label="Own" role="gridcell">x</td></tr></tbody></table>{% endstacked_table %}""")
        assert 'role="grid">' in html and '<td data-label="Own" role="gridcell">x</td>' in html

    def test_it_takes_no_arguments(self):
        with pytest.raises(TemplateSyntaxError):
            Template("{% load voipxs_tables %}{% stacked_table wide %}{% endstacked_table %}")


class BreakableAddressTests:
    def test_an_address_may_wrap_after_a_dot_and_before_the_at_only(self):
        html = _render("{% load voipxs_tables %}{{ a|breakable_address }}", a="desk@fiod-belasting.example")
        assert html == "desk<wbr>@fiod-belasting.<wbr>example"

    def test_it_escapes_what_it_is_given(self):
        html = _render("{% load voipxs_tables %}{{ a|breakable_address }}", a='x<script>"@y.nl')
        assert html == "x&lt;script&gt;&quot;<wbr>@y.<wbr>nl"


@pytest.mark.django_db
class StaffPagesOnAPhoneTests:
    def test_the_dpo_work_list_labels_each_cell_in_english_and_dutch(self, client, alice, dpo):
        request = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="Wrong label")
        verified_client(client, dpo)
        page = client.get("/privacy-requests/dpo/").content.decode()
        table = page.split('id="dsr-open"')[1].split("</table>")[0]
        assert ("#", str(request.pk)) in _cells(table) and ("Account", f"#{alice.pk}") in _cells(table)
        assert "Deadline" in [label for label, _text in _cells(table)]
        client.cookies["django_language"] = "nl"
        dutch = client.get("/privacy-requests/dpo/").content.decode().split('id="dsr-open"')[1].split("</table>")[0]
        headings = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', dutch)
        assert [label for label, _text in _cells(dutch)] == headings
        assert headings[1:5] == ["Soort", "Account", "Ontvangen", "Termijn"]  # type, account, received, deadline
