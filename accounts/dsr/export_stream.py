"""The rows of the data-subject export, written fast and in constant memory (issue 15: 100,000 calls in
under 2 s). `accounts.dsr.export` lays out the ZIP; this module turns a section's stream of row dicts
into its JSON text and its CSV, batch by batch, with as little Python per row as it can:

- each row's JSON comes from the C encoder that `json.JSONEncoder(ensure_ascii=False, default=str)`
  uses, made once per section instead of once per row, and called through `map` (no Python frame per
  row): the same text, byte for byte;
- each row's CSV cells are what `csv_cell` makes of them (the common kinds inline), written a batch
  at a time by `csv.writer.writerows`;
- bytes on their way into the ZIP go through a thread of their own (`Background`): deflate, the CRC,
  the SHA-256 and AES-GCM release the GIL, so compressing and encrypting the export runs on the
  other core while this one makes the next rows.

Nothing here writes to disk: the caller hands in the sinks (an encrypted file writer, a ZIP entry).
"""
from __future__ import annotations

import csv
import gc
import json
import queue
import threading
from contextlib import contextmanager
from itertools import islice, repeat
from json import encoder as _json_impl
from typing import Any, Callable, Iterable, Iterator

BATCH = 2000  # rows taken from a section at a time: enough to amortise, few enough to keep memory flat
FLUSH = 1 << 20  # text is handed on in blocks of about 1 MiB
_FORMULA_FIRST = frozenset(("=", "+", "-", "@", "\t", "\r"))  # a cell starting so is quoted
# Text that starts with apostrophes and then a formula character gets one more apostrophe, so that reading a
# cell back (csv_text: drop one leading apostrophe where a formula character follows the apostrophes) gives
# the value again: "'=x" is written "''=x", where it used to read back as "=x". Other text starting with an
# apostrophe ("'s-Hertogenbosch") is written as it is.
_QUOTE_FIRST = _FORMULA_FIRST | {"'"}


def csv_cell(value: Any) -> Any:
    """One CSV cell: text that a spreadsheet would run as a formula (also after apostrophes) gets a leading quote,
    None is empty, a bool is true/false and a list or dict its JSON; anything else as csv writes it."""
    kind = type(value)
    if kind is str:
        # A spreadsheet must not run caller-ID text as a formula.
        return "'" + value if value[:1] in _QUOTE_FIRST and value.lstrip("'")[:1] in _FORMULA_FIRST else value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is list or kind is dict:
        return csv_cell(json.dumps(value, ensure_ascii=False, default=str))
    return value


def csv_text(cell: str) -> str:
    """A text cell of the export's CSV read back: the inverse of csv_cell's rule for text."""
    return cell[1:] if cell[:1] == "'" and cell.lstrip("'")[:1] in _FORMULA_FIRST else cell


def _csv_row(values: Iterable[Any]) -> list[Any]:
    # Called once per exported row (100,000 calls): the common cases inline, the rest via csv_cell.
    # (Column by column over a batch was tried: slower, the type checks cost what they save.)
    out = []
    append = out.append
    for value in values:
        kind = type(value)
        if kind is str:
            append("'" + value if value[:1] in _QUOTE_FIRST and value.lstrip("'")[:1] in _FORMULA_FIRST else value)
        elif kind is int or value is None:  # csv writes None as "", as csv_cell would
            append(value)
        else:
            append(csv_cell(value))
    return out


def csv_rows(batch: list[dict], columns: tuple) -> Iterator[list]:
    """The CSV rows of a batch under `columns` (the first row's keys): a row with other keys gives its
    value of each column (None, so empty, for a column it lacks) and drops the rest."""
    for row in batch:
        yield _csv_row(row.values() if tuple(row) == columns else [row.get(c) for c in columns])


def json_rows_encoder() -> Callable[[list[dict]], Iterator[str]]:
    """rows -> the JSON text of each, exactly as `json.JSONEncoder(ensure_ascii=False, default=str).encode`."""
    make = _json_impl.c_make_encoder
    if make is None:  # a Python without the _json accelerator: the same text, slower
        return lambda rows: map(json.JSONEncoder(ensure_ascii=False, default=str).encode, rows)
    # The arguments JSONEncoder.iterencode gives it for these options (check_circular: a markers dict).
    encode = make({}, str, _json_impl.encode_basestring, None, ": ", ", ", False, False, True)
    return lambda rows: map("".join, map(encode, rows, repeat(0)))


class TextOut:
    """Text on its way to a binary sink, handed on UTF-8 encoded in blocks of about FLUSH characters."""

    def __init__(self, write: Callable[[bytes], Any]) -> None:
        self._write, self._parts, self._size = write, [], 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= FLUSH:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._write("".join(self._parts).encode("utf-8"))
            self._parts, self._size = [], 0


def section_write(rows: Iterable[dict], *, json_out: TextOut, csv_out: Callable[[bytes], Any]) -> int:
    """Write a section's rows: their JSON, comma-separated, to `json_out`; their CSV (a header of the
    first row's keys, then one line per row) to `csv_out`, in blocks. Returns the number of rows."""
    encode = json_rows_encoder()
    rows = iter(rows)
    lines: list[str] = []  # csv.writer writes each line here (a StringIO slows down once it is rewound)
    writer = csv.writer(_Lines(lines.append))
    columns: tuple | None = None
    n = 0
    while batch := list(islice(rows, BATCH)):
        if columns is None:
            columns = tuple(batch[0])
            writer.writerow(columns)
        json_out.write(("," if n else "") + ",".join(encode(batch)))
        writer.writerows(csv_rows(batch, columns))
        n += len(batch)
        if sum(map(len, lines)) >= FLUSH:
            csv_out("".join(lines).encode("utf-8"))
            lines.clear()
    if lines:
        csv_out("".join(lines).encode("utf-8"))
    return n


class _Lines:
    """What csv.writer writes to: a `write` that keeps each line."""

    __slots__ = ("write",)

    def __init__(self, write: Callable[[str], Any]) -> None:
        self.write = write


class Background:
    """A binary sink written in a thread of its own, behind a queue of a few blocks (memory stays flat).
    Use as a context manager: leaving waits for the thread; an error in the thread is raised in the
    writer (at its next write or at the end), and an error in the writer stops the thread."""

    _END = None

    def __init__(self, target: Any, *, depth: int = 2) -> None:
        self._target, self._queue, self._error = target, queue.Queue(maxsize=depth), None
        self._thread = threading.Thread(target=self._run, name="export-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (data := self._queue.get()) is not self._END:
            if self._error is None:
                try:
                    self._target.write(data)
                except BaseException as exc:  # handed to the writer; the rest of the queue is dropped
                    self._error = exc

    def write(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def __enter__(self) -> Background:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._queue.put(self._END)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error


# The collector's thresholds while an export is written: a first pass only after 50,000 more container
# objects than were freed (a fetched batch is 20,000: its rows are freed by reference counting before
# the collector would look at them), the older generations as rarely. With the defaults (700, 10, 10)
# a build of 100,000 calls ran 770 young and 7 full collections, each full one over every object of
# the worker (Django's, about 95,000), finding nothing: 0.3-0.4 s of 1.8 s of CPU (issue 15).
_EXPORT_GC_THRESHOLDS = (50_000, 20, 100)


@contextmanager
def few_collections() -> Iterator[None]:
    """Raise the collector's thresholds for the block (cycles are still collected), then put back
    the ones it had."""
    before = gc.get_threshold()
    gc.set_threshold(*_EXPORT_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
