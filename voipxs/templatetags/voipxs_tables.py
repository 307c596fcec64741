"""`{% stacked_table %}…{% endstacked_table %}`: a list table (staff's, and a customer's own) that a phone shows as
cards, one per row.

    {% load voipxs_tables %}
    {% stacked_table %}<div class="table-wrap" tabindex="0"><table class="table">
      <thead><tr><th scope="col">{% translate "Request" %}</th>…</tr></thead>
      <tbody>…</tbody>
    </table></div>{% endstacked_table %}

The tag renders its content as it is and then gives every body cell of the table the text of its column's
heading as `data-label` (the heading as rendered, so in the page's language and never out of step with the
column), and the table the class `stacked`. static/css/site.css shows nothing of this on a wide screen; below
40rem it hides the header row visually and lays each row out as a card in which every cell has its heading
beside it (`::before { content: attr(data-label) }`). Changing a table's CSS display makes some browsers
(Safari with VoiceOver, the phone's screen reader) drop its table semantics, so the same pass also states
them as ARIA roles (table, rowgroup, row, columnheader, rowheader, cell), which such browsers keep.

Only the outermost table is changed; a cell that spans columns (an empty-list message) gets no label. The
pass is one regular-expression scan over the rendered table, a few microseconds a row.

`{{ address|breakable_address }}`: an e-mail address or a domain that a narrow column may wrap after a dot and
before the "@" (a <wbr> there) as well as at a hyphen, so a long address neither widens its table nor breaks
inside a word.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from django import template
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# The tags that shape a table. Attribute values come from templates and autoescaped variables, which write
# a ">" inside a value as "&gt;", so "[^>]*" ends at the tag's own ">".
_TABLE_TAG = re.compile(r"<(/?)(table|thead|tbody|tfoot|tr|th|td)\b([^>]*)>", re.IGNORECASE)
_COLSPAN = re.compile(r"""\bcolspan\s*=\s*["']?\s*(\d+)""", re.IGNORECASE)
_CLASS = re.compile(r"""\bclass\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_ROLE = re.compile(r"\brole\s*=", re.IGNORECASE)
_LABEL = re.compile(r"\bdata-label\s*=", re.IGNORECASE)


@dataclass
class _Table:
    """What the scan knows of the table it is in."""

    section: str = ""  # thead, tbody, tfoot, or "" for rows placed straight in the table
    labels: list[str] = field(default_factory=list)  # by column, from the last header row
    header_row: list[str] = field(default_factory=list)
    column: int = 0
    heading_start: int = -1  # where the text of the <th> being read starts
    heading_span: int = 1


def _span(attributes: str) -> int:
    found = _COLSPAN.search(attributes)
    return max(1, int(found.group(1))) if found else 1


def _heading_text(markup: str) -> str:
    """The visible words of a heading (a visually hidden one too: screen readers read it), one line."""
    return " ".join(html.unescape(strip_tags(markup)).split())


def label_table_cells(markup: str) -> str:
    """`markup` with the outermost tables' body cells labelled with their column's heading (see the module)."""
    out: list[str] = []
    done = 0  # markup[:done] is in out
    tables: list[_Table] = []

    def insert(at: int, text: str) -> None:
        nonlocal done
        out.append(markup[done:at])
        out.append(text)
        done = at

    for tag in _TABLE_TAG.finditer(markup):
        closing, name, attributes = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name == "table":
            if not closing:
                tables.append(_Table())
            elif tables:
                tables.pop()
            continue
        if len(tables) != 1:  # outside a table, or inside a nested one
            continue
        table = tables[0]
        end = tag.end() - 1  # new attributes go last, before the ">": the tag still starts as it did
        if name in ("thead", "tbody", "tfoot"):
            table.section = "" if closing else name
            if not closing and not _ROLE.search(attributes):
                insert(end, ' role="rowgroup"')
            continue
        if name == "tr":
            if not closing:
                table.column, table.header_row = 0, []
                if not _ROLE.search(attributes):
                    insert(end, ' role="row"')
            elif table.section == "thead" and table.header_row:
                table.labels = table.header_row
            continue
        heading = table.section == "thead"
        if closing:
            if heading and name == "th" and table.heading_start >= 0:
                text = _heading_text(markup[table.heading_start:tag.start()])
                table.header_row += [text] * table.heading_span
                table.heading_start = -1
            continue
        span = _span(attributes)
        if heading:
            role = "columnheader"
            if name == "th":
                table.heading_start, table.heading_span = tag.end(), span
            else:
                table.header_row += [""] * span
        else:
            role = "rowheader" if name == "th" else "cell"
            label = table.labels[table.column] if span == 1 and table.column < len(table.labels) else ""
            if label and not _LABEL.search(attributes):
                insert(end, f' data-label="{escape(label)}"')
        if not _ROLE.search(attributes):
            insert(end, f' role="{role}"')
        table.column += span
    return "".join(out) + markup[done:]


def _stack(markup: str) -> str:
    """Marks the outermost tables `stacked` (class) and `table` (role) and labels their cells."""
    depth, edits = 0, []
    for tag in _TABLE_TAG.finditer(markup):
        if tag.group(2).lower() != "table":
            continue
        if tag.group(1):
            depth -= 1
            continue
        depth += 1
        if depth == 1:
            edits.append(tag)
    out, done = [], 0
    for tag in edits:
        attributes = tag.group(3)
        found = _CLASS.search(attributes)
        if found:
            new = (attributes[:found.start(2)] + found.group(2) + " stacked" + attributes[found.end(2):])
        else:
            new = attributes + ' class="stacked"'
        if not _ROLE.search(new):
            new += ' role="table"'
        out += [markup[done:tag.start()], f"<{tag.group(2)}{new}>"]
        done = tag.end()
    return label_table_cells("".join(out) + markup[done:])


class StackedTableNode(template.Node):
    child_nodelists = ("nodelist",)

    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> SafeString:
        rendered = self.nodelist.render(context)
        # Reviewed: the content was rendered (and autoescaped) by the template; the pass adds only fixed
        # attributes and headings of that same content, escaped again for an attribute.
        return mark_safe(_stack(rendered))  # nosec B308 B703


@register.filter
def breakable_address(value: object) -> SafeString:
    """`value` escaped, with a line-break opportunity (<wbr>) after each dot and before the "@" (see the module)."""
    text = str(escape(value))  # escaping writes no "." or "@"
    # Reviewed: the text is escaped above; only fixed <wbr> tags are added.
    return mark_safe(text.replace(".", ".<wbr>").replace("@", "<wbr>@"))  # nosec B308 B703


@register.tag("stacked_table")
def stacked_table(parser: template.base.Parser, token: template.base.Token) -> StackedTableNode:
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% stacked_table %} takes no arguments")
    nodelist = parser.parse(("endstacked_table",))
    parser.delete_first_token()
    return StackedTableNode(nodelist)
