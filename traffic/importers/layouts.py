"""A switch's own CDR layout, given exactly as it is configured on the switch (Source.columns).

- Asterisk cdr_custom: the mapping line of cdr_custom.conf,
  `Master.csv => ${CSV_QUOTE(${CDR(clid)})},${CSV_QUOTE(${CDR(src)})},...,${CDR(sequence)}`: each
  top-level comma-separated field names the CDR variable it writes (`${CDR(name)}` or
  `${CDR(name,u)}`/`${CDR(name,f)}`, inside any function such as CSV_QUOTE); a field without a CDR
  variable is a column we do not read. (Checked against asterisk/asterisk cdr/cdr_custom.c and
  configs/samples/cdr_custom.conf.sample: the left side is the file name, the right side one line.)
- FreeSWITCH mod_cdr_csv: a template string of cdr_csv.conf.xml (`"${caller_id_name}","${uuid}",...`),
  or the name of a stock template shipped in conf/vanilla/autoload_configs/cdr_csv.conf.xml
  (STOCK_TEMPLATES). A template is a line of literal text with `${variable}` in it: the text between
  the variables (quotes, commas, an SQL INSERT around them) is matched as written.
- Kamailio acc: the `modparam("acc", ...)` lines of kamailio.cfg that change what a CDR line means
  (`cdr_start_on_confirmed`, the attribute names), pasted as they are (KamailioAcc).

Nothing here sees a file's content; errors name what is wrong with the layout, never data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_noop

# conf/vanilla/autoload_configs/cdr_csv.conf.xml of FreeSWITCH, verbatim (the `sql` and `snom` ones
# have a space before "${accountcode}"; `opencdrrate` holds an expression we do not read).
STOCK_TEMPLATES = {
    "sql": 'INSERT INTO cdr VALUES ("${caller_id_name}","${caller_id_number}","${destination_number}",'
           '"${context}","${start_stamp}","${answer_stamp}","${end_stamp}","${duration}","${billsec}",'
           '"${hangup_cause}","${uuid}","${bleg_uuid}", "${accountcode}");',
    "example": '"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",'
               '"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}",'
               '"${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}"',
    "snom": '"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",'
            '"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}",'
            '"${bleg_uuid}", "${accountcode}","${read_codec}","${write_codec}","${sip_user_agent}",'
            '"${call_clientcode}","${sip_rtp_rxstat}","${sip_rtp_txstat}","${sofia_record_file}"',
    "linksys": '"${caller_id_name}","${caller_id_number}","${destination_number}","${context}","${start_stamp}",'
               '"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${uuid}",'
               '"${bleg_uuid}","${accountcode}","${read_codec}","${write_codec}","${sip_user_agent}",'
               '"${sip_p_rtp_stat}"',
    "asterisk": '"${accountcode}","${caller_id_number}","${destination_number}","${context}","${caller_id}",'
                '"${channel_name}","${bridge_channel}","${last_app}","${last_arg}","${start_stamp}",'
                '"${answer_stamp}","${end_stamp}","${duration}","${billsec}","${hangup_cause}","${amaflags}",'
                '"${uuid}","${userfield}"',
    "opencdrrate": '"${uuid}","${signal_bond}","${direction}","${ani}","${destination_number}","${answer_stamp}",'
                   '"${end_stamp}","${billsec}","${accountcode}","${userfield}","${network_addr}",'
                   '"${regex(\'${original_caller_id_name}\'|^.)}","${sip_gateway_name}"',
}


class LayoutError(ValueError):
    """The declared layout cannot be read; the message says what is missing. It is one of the LAYOUT_* msgids
    below filled with `params` (names of variables and columns, line numbers: the layout's, never data), so
    that the refusal built from it can show it in the user's language (`msgid`, `params`); str() is English."""

    def __init__(self, msgid: str, params: dict[str, Any] | None = None) -> None:
        self.msgid, self.params = msgid, params or {}
        super().__init__(msgid % self.params if params else msgid)


# The reasons: lowercase, they end a sentence of the refusal ("This is no layout of the format: <reason>.").
LAYOUT_MAPPING_EMPTY = gettext_noop("the mapping line is empty")
LAYOUT_MAPPING_MISSING = gettext_noop("the mapping writes no %(names)s (${CDR(%(first)s)})")
LAYOUT_VARIABLE_OPEN = gettext_noop("a ${...} in the template is never closed")
LAYOUT_NOT_A_TEMPLATE = gettext_noop("not a template (no ${variable}) nor a stock template name (%(names)s)")
LAYOUT_TEMPLATE_MISSING = gettext_noop("the template writes no %(names)s")
LAYOUT_NOT_MODPARAM = gettext_noop('line %(line)s is no modparam("acc", "name", value) line of kamailio.cfg')
LAYOUT_START_ON_CONFIRMED = gettext_noop("cdr_start_on_confirmed is 0 or 1")
LAYOUT_NOT_AN_ATTRIBUTE = gettext_noop("%(name)s is no attribute name")
LAYOUT_NONE_TAKEN = gettext_noop("the %(format)s format takes no column layout")


# --- Asterisk cdr_custom ---------------------------------------------------------------------------

_CDR_VAR = re.compile(r"\$\{CDR\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*([a-z]*)\s*)?\)\}")
ASTERISK_NEEDED = ("start",)


def _top_level_split(text: str) -> list[str]:
    """Split on commas outside ${...} and (...) (a function's arguments hold commas of their own)."""
    fields, depth, current = [], 0, []
    for char in text:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            fields.append("".join(current))
            current = []
            continue
        current.append(char)
    fields.append("".join(current))
    return fields


def asterisk_mapping(line: str) -> tuple[tuple[str | None, ...], frozenset[str]]:
    """A cdr_custom.conf mapping line → (CDR variable of each column or None, columns written as epochs
    (`,u`)). Raises LayoutError when the line writes no start time."""
    text = line.strip()
    if "=>" in text:
        text = text.split("=>", 1)[1]
    elif "=" in text and text.split("=", 1)[0].strip().endswith((".csv", ".CSV")):
        text = text.split("=", 1)[1]
    text = text.strip()
    if not text:
        raise LayoutError(LAYOUT_MAPPING_EMPTY)
    names: list[str | None] = []
    epochs = set()
    for field in _top_level_split(text):
        found = _CDR_VAR.search(field)
        if found is None:
            names.append(None)
            continue
        name = found.group(1).lower()
        names.append(name)
        if found.group(2) and "u" in found.group(2):
            epochs.add(name)
    missing = [name for name in ASTERISK_NEEDED if name not in names]
    if missing:
        raise LayoutError(LAYOUT_MAPPING_MISSING, {"names": ", ".join(missing), "first": missing[0]})
    return tuple(names), frozenset(epochs)


# --- FreeSWITCH mod_cdr_csv ------------------------------------------------------------------------

FREESWITCH_NEEDED = ("uuid",)
_PLAIN_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Template:
    names: tuple[str | None, ...]  # the variable of each ${...}, None for an expression
    csv: bool  # one variable per comma-separated column (quoted or not): CSV
    pattern: re.Pattern  # a whole line: the template's literal text, a group for each variable


def _variables(template: str) -> list[tuple[int, int, str]]:
    """(start, end, inner text) of each top-level ${...}, nested braces included."""
    found, i = [], 0
    while True:
        start = template.find("${", i)
        if start < 0:
            return found
        depth, j = 0, start + 1
        while j < len(template):
            if template[j] == "{":
                depth += 1
            elif template[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if depth:
            raise LayoutError(LAYOUT_VARIABLE_OPEN)
        found.append((start, j + 1, template[start + 2:j]))
        i = j + 1


def freeswitch_template(spec: str) -> Template:
    """A template string of cdr_csv.conf.xml, or a stock template's name → Template."""
    text = (spec or "").strip() or "example"
    text = STOCK_TEMPLATES.get(text, text)
    if "${" not in text:
        raise LayoutError(LAYOUT_NOT_A_TEMPLATE, {"names": ", ".join(STOCK_TEMPLATES)})
    variables = _variables(text)
    names = tuple(inner if _PLAIN_VAR.fullmatch(inner) else None for _s, _e, inner in variables)
    missing = [name for name in FREESWITCH_NEEDED if name not in names]
    if not any(f"{when}_{kind}" in names for when in ("start", "answer") for kind in ("stamp", "epoch", "uepoch")):
        missing.append("start_stamp")  # the stock opencdrrate template writes only answer and end
    if missing:
        raise LayoutError(LAYOUT_TEMPLATE_MISSING, {"names": ", ".join(missing)})
    columns = [part.strip() for part in _top_level_split(text)]
    plain = len(columns) == len(variables) and all(
        column in (f'"${{{inner}}}"', f"${{{inner}}}") for column, (_s, _e, inner) in zip(columns, variables))
    parts, last = [], 0
    for start, end, _inner in variables:
        parts.append(_literal(text[last:start]))
        parts.append("(.*?)")
        last = end
    parts.append(_literal(text[last:]))
    return Template(names, plain, re.compile("".join(parts), re.DOTALL))


def _literal(text: str) -> str:
    """Literal template text; a run of spaces matches any run, or none (FreeSWITCH writes it as is,
    editors and collectors sometimes do not)."""
    return r"\s*".join(re.escape(piece) for piece in re.split(r"\s+", text))


# --- Kamailio acc ----------------------------------------------------------------------------------

# modparam("acc", "name", 1) or modparam("acc", "name", "text"); a module regex such as "acc|dialog" too.
_MODPARAM = re.compile(r'modparam\(\s*"([^"]*)"\s*,\s*"([A-Za-z_]+)"\s*,\s*(?:"([^"]*)"|(-?[0-9]+))\s*\)\s*;?')
_ACC_NAMES = {"cdr_start_id": "start", "cdr_end_id": "end", "cdr_duration_id": "duration"}


@dataclass(frozen=True)
class KamailioAcc:
    """What a source's acc CDR lines mean, from the acc modparam lines of its kamailio.cfg.

    `start_on_confirmed`: Kamailio's `cdr_start_on_confirmed`. Its default, 0, makes start_time the
    dialog's creation (the INVITE), so duration holds the ringing too (acc_cdr.c set_start_time, called
    on creation and, only when the setting is 1, again on confirmation). The attribute names are
    `cdr_start_id`, `cdr_end_id` and `cdr_duration_id` (defaults start_time, end_time, duration)."""

    start_on_confirmed: bool = False
    start: str = "start_time"
    end: str = "end_time"
    duration: str = "duration"


def kamailio_acc(columns: str) -> KamailioAcc:
    """The source's declaration: its `modparam("acc", ...)` lines as written in kamailio.cfg (other
    modules' lines and comments are ignored; nothing declared is Kamailio's defaults)."""
    settings: dict[str, object] = {}
    for number, raw in enumerate(columns.splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        found = _MODPARAM.fullmatch(text)
        if found is None:
            raise LayoutError(LAYOUT_NOT_MODPARAM, {"line": number})
        module, name, quoted, number_text = found.groups()
        if "acc" not in module.split("|"):
            continue
        value = quoted if quoted is not None else number_text
        if name == "cdr_start_on_confirmed":
            if value not in ("0", "1"):
                raise LayoutError(LAYOUT_START_ON_CONFIRMED)
            settings["start_on_confirmed"] = value == "1"
        elif name in _ACC_NAMES:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value or ""):
                raise LayoutError(LAYOUT_NOT_AN_ATTRIBUTE, {"name": name})
            settings[_ACC_NAMES[name]] = value
    return KamailioAcc(**settings)


def layout_check(fmt: str, columns: str) -> None:
    """Raises LayoutError when `columns` is no layout for `fmt` (a source's declaration)."""
    if fmt == "asterisk-custom" and columns.strip():
        asterisk_mapping(columns)
    elif fmt == "freeswitch-csv":
        freeswitch_template(columns)
    elif fmt == "kamailio-acc":
        kamailio_acc(columns)
    elif columns.strip() and fmt not in ("asterisk-custom", "freeswitch-csv"):
        raise LayoutError(LAYOUT_NONE_TAKEN, {"format": fmt})
