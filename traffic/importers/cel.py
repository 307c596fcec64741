"""An Asterisk CEL event log (cel_custom, cel_csv) is no CDR file: refused whole from its first row, with
a message that says what it is (a CEL log is one row per event, not per call)."""
from __future__ import annotations

CEL_EVENTS = frozenset({
    "CHAN_START", "CHAN_END", "ANSWER", "HANGUP", "BRIDGE_START", "BRIDGE_END", "BRIDGE_ENTER",
    "BRIDGE_EXIT", "LINKEDID_END", "APP_START", "APP_END", "PARK_START", "PARK_END", "BLINDTRANSFER",
    "ATTENDEDTRANSFER", "PICKUP", "FORWARD", "USER_DEFINED", "HOOKFLASH", "LOCAL_OPTIMIZE",
})
CEL_REFUSAL = "This is an Asterisk CEL event log, not CDRs: import the cdr_csv or cdr_custom file instead."


class ImportFormatError(Exception):
    """The whole file is refused (wrong kind of file). The message never quotes the file."""


def refuse_cel(fields: list[str]) -> None:
    """A CEL line starts with an event name and then the event time: an epoch with microseconds
    (the default) or a date when cel.conf sets `dateformat`. A CDR's second column is a number,
    so a caller or account that happens to be called "ANSWER" does not refuse the file."""
    if len(fields) < 2 or fields[0] not in CEL_EVENTS:
        return
    when = fields[1]
    epoch = "." in when and when.replace(".", "", 1).isdigit()
    date = len(when) >= 19 and when[4:5] == "-" and when[10:11] in (" ", "T")
    if epoch or date:
        raise ImportFormatError(CEL_REFUSAL)
