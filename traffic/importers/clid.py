"""Caller names from what switches write in their caller-id fields (shared by the parsers through base.py)."""
from __future__ import annotations


def caller_name_from_clid(clid: str, number: str = "") -> str:
    """'"Test User" <test>' → 'Test User'. The number part never goes into the name: Asterisk
    writes a clid with no name as the bare number ("0205550101"), which is then no name at all."""
    text = clid.strip()
    if text[-1:] == ">":
        cut = text.rfind("<")
        if cut >= 0:
            text = text[:cut].rstrip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return name_unless_number(text, number)


def name_unless_number(name: str, number: str) -> str:
    """Switches fill the caller-ID name with the number when there is no name; that is not a name."""
    if not name or name == number:
        return ""
    if name[0] in "+0123456789" and name.lstrip("+").replace(" ", "").replace("-", "").isdigit():
        return ""
    return name
