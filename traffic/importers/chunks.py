"""Parsing a part of a CSV file as if it were the file: where its line numbers start, and whether it is
the file's first part (only that one is sniffed and first-checked). Read by base.csv_lines and
base.record_rows; set by traffic.ingest.parallel, which cuts large files into parts."""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Iterator


@dataclass(slots=True)
class FileChunk:
    """A part of a CSV file parsed on its own (traffic.ingest.parallel): it starts on a record
    boundary after `line_offset` physical lines. Only the file's first chunk is sniffed and
    first-checked, as a whole file is. `dirty_end`: the chunk ended inside a quoted field, so its
    end was not a record boundary after all (the caller parses from there on in one piece)."""

    line_offset: int = 0
    first: bool = True
    dirty_end: bool = False


_CHUNK: contextvars.ContextVar[FileChunk | None] = contextvars.ContextVar("cdr_file_chunk", default=None)


def chunk_current() -> FileChunk | None:
    return _CHUNK.get()


@contextlib.contextmanager
def file_chunk(*, line_offset: int, first: bool) -> Iterator[FileChunk]:
    """Parse a part of a file with the parsers of this package, inside this block: line numbers
    count from `line_offset`, and a part that is not the file's first is neither sniffed nor
    first-checked (both look at the start of a file only)."""
    chunk = FileChunk(line_offset=line_offset, first=first)
    token = _CHUNK.set(chunk)
    try:
        yield chunk
    finally:
        _CHUNK.reset(token)
