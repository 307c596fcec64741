"""A small reader for gettext .po files (polib is not a dependency), shared by the catalogue tests."""
import re
from dataclasses import dataclass, field
from pathlib import Path

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"\s*$')


def unescape(text):
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def escape(text):
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


@dataclass
class Entry:
    comments: list = field(default_factory=list)  # raw comment lines other than flags and previous (#|)
    flags: list = field(default_factory=list)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict = field(default_factory=dict)  # index (0 for singular) -> text

    @property
    def fuzzy(self):
        return "fuzzy" in self.flags

    @property
    def translated(self):
        return bool(self.msgstr) and all(self.msgstr.values()) and not self.fuzzy

    @property
    def key(self):
        return (self.msgctxt, self.msgid)


def parse(path):
    """Return the entries of a .po file, header (msgid "") included, obsolete (#~) entries left out."""
    entries, current, last = [], None, None
    for line in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            if current is not None and last is not None:
                entries.append(current)
            current, last = None, None
            continue
        if current is None:
            current = Entry()
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            current.flags += [f.strip() for f in line[2:].split(",") if f.strip()]
        elif line.startswith("#|"):
            continue
        elif line.startswith("#"):
            current.comments.append(line)
        elif line.startswith('"'):
            _append(current, last, unescape(line[1:-1]))
        else:
            match = _KEYWORD.match(line)
            if not match:
                raise ValueError(f"unreadable line in {path}: {line[:60]}")
            last = match.group(1)
            _append(current, last, unescape(match.group(2)), start=True)
    return entries


def _append(entry, keyword, text, start=False):
    if keyword.startswith("msgstr"):
        index = int(keyword[7:-1]) if "[" in keyword else 0
        entry.msgstr[index] = ("" if start else entry.msgstr.get(index, "")) + text
    elif keyword == "msgid":
        entry.msgid = ("" if start else entry.msgid) + text
    elif keyword == "msgid_plural":
        entry.msgid_plural = ("" if start else entry.msgid_plural) + text
    else:
        entry.msgctxt = ("" if start else entry.msgctxt) + text


def render(entry):
    lines = list(entry.comments)
    if entry.flags:
        lines.append("#, " + ", ".join(entry.flags))
    if entry.msgctxt is not None:
        lines.append(f'msgctxt "{escape(entry.msgctxt)}"')
    lines.append(f'msgid "{escape(entry.msgid)}"')
    if entry.msgid_plural is not None:
        lines.append(f'msgid_plural "{escape(entry.msgid_plural)}"')
        lines += [f'msgstr[{i}] "{escape(s)}"' for i, s in sorted(entry.msgstr.items())]
    else:
        lines.append(f'msgstr "{escape(entry.msgstr.get(0, ""))}"')
    return "\n".join(lines)


def messages(entries):
    """The real messages: everything but the header."""
    return [e for e in entries if e.msgid or e.msgctxt is not None]
