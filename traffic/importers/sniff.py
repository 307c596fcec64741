"""What kind of file an upload is, from its first bytes: a file that is no CDR text at all is refused
whole before its first row (base.refuse_non_text raises the refusal), instead of ending "done" with
every one of its lines rejected (issue 16, item 8).

Refused, with a message saying what the file is:
- UTF-16 or UTF-32 text (a byte-order mark, or a NUL in every other byte). It is refused, not decoded:
  no switch writes it (Asterisk's cdr_csv and cdr_custom and FreeSWITCH's mod_cdr_csv and mod_json_cdr
  write UTF-8). Such a file went through a spreadsheet or a Windows PowerShell redirect, which may also
  have re-formatted dates and cut the leading zeros of numbers ("0699990001" → 699990001), so the
  switch's own file is asked for instead of storing numbers that may be wrong.
- binary data (an image, an archive, random bytes): more than CONTROL_SHARE_MAX of the first bytes are
  C0 control bytes, which text (UTF-8 or an 8-bit code page) has next to none of; random bytes have one
  in nine, images and archives as many or more. One NUL byte in one row of a text file stays far
  below that: that row alone is rejected later (traffic/ingest/rows.py).
Text in an 8-bit code page (Latin-1 caller names) is not refused: the parsers replace what is not
UTF-8. A text file none of whose rows is a CDR is refused by the run (traffic/ingest/run.py).

Nothing here quotes the file: the messages name only what kind of file it is.
"""
from __future__ import annotations

SNIFF_BYTES = 8192
CONTROL_SHARE_MAX = 0.02

WIDE_TEXT_REFUSAL = ("This file is {encoding} text, not UTF-8: switches write CDR files in UTF-8. Upload the "
                     "switch's own file (a file saved from a spreadsheet may also have lost the leading zeros "
                     "of numbers).")
UTF16_REFUSAL = WIDE_TEXT_REFUSAL.format(encoding="UTF-16")
NOT_CDR_TEXT = "This file is not text (it holds binary data), so it is no CDR file."
BINARY_KIND_REFUSAL = "This file is {kind}, not CDR text."

_BINARY_KINDS = (  # named in the refusal when the file is binary and starts like one of these
    (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (an .xlsx spreadsheet is one)"),
    (b"\x1f\x8b", "a gzip archive (decompress it first)"), (b"\xd0\xcf\x11\xe0", "an old Office document (.xls)"),
)
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r")
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)  # deleted by translate: the controls remain


def non_text_refusal(head: bytes) -> str:
    """The refusal of a file whose first bytes are `head`, or "" when it may be CDR text."""
    if not head:
        return ""
    encoding = _wide_text(head)
    if encoding:
        return WIDE_TEXT_REFUSAL.format(encoding=encoding)
    if len(head.translate(None, _NOT_CONTROL)) > CONTROL_SHARE_MAX * len(head):
        kind = next((kind for magic, kind in _BINARY_KINDS if head.startswith(magic)), "")
        return BINARY_KIND_REFUSAL.format(kind=kind) if kind else NOT_CDR_TEXT
    return ""


def _wide_text(head: bytes) -> str:
    """"UTF-16" or "UTF-32" when the head is text in one of them, else ""."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    half, quarter = len(head) // 2, len(head) // 4
    if quarter < 4:
        return ""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if max(even, odd) > 0.4 * half and min(even, odd) < 0.05 * half:  # ASCII as UTF-16: every other byte NUL
        return "UTF-16"
    wide = all(head[i::4].count(0) > 0.4 * quarter for i in (1, 2))
    if wide and min(head[0::4].count(0), head[3::4].count(0)) < 0.05 * quarter:  # ASCII as UTF-32
        return "UTF-32"
    return ""
