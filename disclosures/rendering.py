"""The package's files, written one batch of records at a time into temporary files (production._spool: in memory
while small, else an unnamed private file), hashed and counted as they go, so that a delivery of hundreds of
thousands of calls never has a whole file, nor a list of its records, in memory beside the rows.

The bytes are exactly those the whole-file writers made (csv.writer on one buffer; json.dumps(..., indent=1) of
{"request", "records"}; ElementTree writing the whole TS 102 657 message, etsi.render_chunks): every SHA-256 and
seal already on record, and what a recipient's reader sees, stay as they were. calls.json's layout is also what
lets `calls_json_count` read it a line at a time (the standard library has no streaming JSON parser): json.dumps
escapes every line break inside a string, so each line of the file is one piece of the structure."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Callable, Iterable, Iterator, Sequence

from django.conf import settings

from traffic.exports import neutralise

from .models import DisclosureRequest
from .selectors import Row, Scope

MANIFEST = "manifest.json"
SUBSCRIBERS = "subscribers.json"
CSV_HEADER = ["record_id", "start_utc", "end_utc", "duration_s", "billsec", "direction", "disposition",
              "originating_party", "terminating_party", "call"]  # call: the legs of one call share it
_BATCH = 1000  # records written to the files at a time
# calls.json around its records, as json.dumps(..., indent=1) writes them: each record is two levels in.
_RECORDS_OPEN, _RECORD_INDENT, _RECORDS_CLOSE, _NO_RECORDS = ' "records": [', "\n  ", "\n ]\n}", ' "records": []\n}'


@dataclass(frozen=True)
class RenderedFile:
    file: IO[bytes]  # at its start; the caller closes it
    sha256: str
    size: int


class _Sink:
    """A file being written: its temporary file, and its SHA-256 and size so far."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file, self._digest, self.size = file, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self._digest.update(data)
        self.size += len(data)

    def done(self) -> RenderedFile:
        self.file.seek(0)
        return RenderedFile(file=self.file, sha256=self._digest.hexdigest(), size=self.size)


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _json_record(cells: list) -> str:
    """One record of calls.json as json.dumps writes it inside the whole file (two levels of indent in)."""
    return json.dumps(dict(zip(CSV_HEADER, cells)), ensure_ascii=False, indent=1).replace("\n", _RECORD_INDENT)


def _write_calls(csv_sink: _Sink, json_sink: _Sink, *, request_id: int, rows: Sequence[Row]) -> None:
    """calls.csv and calls.json, a batch of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    json_sink.write(('{\n "request": ' + json.dumps(request_id) + ",\n" + (_RECORDS_OPEN if rows else _NO_RECORDS))
                    .encode())
    records: list[str] = []
    for number, r in enumerate(rows):
        end = r.started_at + timedelta(seconds=r.duration)
        cells = [r.cdr_id, _iso(r.started_at), _iso(end), r.duration, r.billsec, r.direction, r.disposition, r.src,
                 r.dst, r.call]
        writer.writerow([neutralise(c) for c in cells])
        records.append(("," if number else "") + _RECORD_INDENT + _json_record(cells))
        if len(records) >= _BATCH:
            json_sink.write("".join(records).encode())
            csv_sink.write(buffer.getvalue().encode())
            records = []
            buffer.seek(0)
            buffer.truncate()
    json_sink.write(("".join(records) + (_RECORDS_CLOSE if rows else "")).encode())
    csv_sink.write(buffer.getvalue().encode())


def _max_hits(*, cap: int, matched: int, delivered: int, subscribers: tuple[int, int] | None = None) -> dict:
    """The manifest's account of the authority's cap on records (ETSI maxHits): how many records matched the scope,
    how many are in the package, and whether the answer was cut to the cap, and how. The entry's own fields are the
    call records' (as in every package made before subscriber data were capped too); where user data were asked,
    `subscribers` ((matched, delivered)) adds a "subscribers" entry of the same shape. The cap holds per category,
    as in TS 102 657, where a RequestMessage carries one maxHits and asks for one kind of record (subscriber data,
    telephonySubscriber, and call records, telephonyServiceUsage, are separate requests): at most `cap` call
    records and at most `cap` subscriber records, the first subscribers by account id."""
    entry = {"cap": cap, "matched": matched, "delivered": delivered, "capped": matched > delivered,
             "rule": "the first records in time order (start time, then record id), up to the cap"}
    if subscribers is not None:
        entry["subscribers"] = {"cap": cap, "matched": subscribers[0], "delivered": subscribers[1],
                                "capped": subscribers[0] > subscribers[1],
                                "rule": "the first subscribers by account id, up to the cap (a cap of their own, "
                                        "apart from the call records')"}
    return entry


def manifest_capped(manifest: dict) -> bool:
    """Whether the authority's cap left records out of the package, call records or subscribers (old manifests have
    only the calls' entry)."""
    entry = manifest.get("max_hits") or {}
    return bool(entry.get("capped") or (entry.get("subscribers") or {}).get("capped"))


def max_hits_counts(manifest: dict, record_count: int) -> dict:
    """What the audit keeps of the cap: how many call records and subscribers matched (counts only)."""
    entry = manifest.get("max_hits") or {}
    return {"matched": entry.get("matched", record_count),
            "subscribers_matched": (entry.get("subscribers") or {}).get("matched")}


def _manifest(*, req: DisclosureRequest, scope: Scope, files: dict[str, RenderedFile], record_count: int,
              subscriber_count: int | None, approvers: list[int], generated_at, matched: int,
              subscribers_matched: int | None) -> bytes:
    manifest = {
        "request_id": req.pk,
        "reference": req.reference,
        "authority": {"id": req.authority_id, "name": req.authority.name, "kind": req.authority.kind},
        "provider_id": settings.DISCLOSURE_PROVIDER_ID,
        "legal_basis": req.legal_basis,
        "scope": {"window_start": _iso(scope.window.start), "window_end": _iso(scope.window.end),
                  "categories": list(scope.categories), "numbers": len(scope.numbers),
                  "accounts": sorted(scope.accounts),
                  "number_periods": sum(len(v) for v in scope.numbers.values())},
        "approvers": approvers,
        "received_by": req.received_by_id,
        "produced_at": _iso(generated_at),
        "record_count": record_count,
        "subscriber_count": subscriber_count,
        "files": {name: {"sha256": f.sha256, "size": f.size} for name, f in sorted(files.items())},
    }
    if req.max_hits is not None:  # only then: the manifests of requests without a cap stay as they were
        manifest["max_hits"] = _max_hits(
            cap=req.max_hits, matched=matched, delivered=record_count,
            subscribers=None if subscriber_count is None else (subscribers_matched, subscriber_count))
    return json.dumps(manifest, indent=1, sort_keys=True).encode()


def render_package(*, spool: Callable[[], IO[bytes]], req: DisclosureRequest, scope: Scope, rows: Sequence[Row],
                   subscribers: list[dict] | None, approvers: list[int], generated_at,
                   matched: int | None = None, subscribers_matched: int | None = None) -> dict[str, RenderedFile]:
    """Every file of the package, each in a file from `spool` (open at its start: the caller closes them all), in
    the order they are stored: calls.csv, calls.json, calls_etsi.xml, subscribers.json (user data asked), and
    manifest.json (SHA-256 and size of the others, counts, basis, scope, approvers; with the request's cap on
    records, how many matched: `matched`, by default as many as `rows`, and `subscribers_matched`, by default as many as
    `subscribers`)."""
    from .etsi import render_chunks

    sinks = {name: _Sink(spool()) for name in ("calls.csv", "calls.json", "calls_etsi.xml")}
    try:
        _write_calls(sinks["calls.csv"], sinks["calls.json"], request_id=req.pk, rows=rows)
        for chunk in render_chunks(request_id=req.pk, reference=req.reference, authority=req.authority.name,
                                   provider_id=settings.DISCLOSURE_PROVIDER_ID,
                                   legal_basis=req.get_legal_basis_display(), generated_at=generated_at, rows=rows):
            sinks["calls_etsi.xml"].write(chunk)
        if subscribers is not None:
            sinks[SUBSCRIBERS] = _Sink(spool())
            sinks[SUBSCRIBERS].write(json.dumps({"request": req.pk, "subscribers": subscribers},
                                                       ensure_ascii=False, indent=1).encode())
        files = {name: sink.done() for name, sink in sinks.items()}
        sinks[MANIFEST] = _Sink(spool())
        sinks[MANIFEST].write(_manifest(req=req, scope=scope, files=files, record_count=len(rows),
                                        subscriber_count=len(subscribers) if subscribers is not None else None,
                                        approvers=approvers, generated_at=generated_at,
                                        matched=len(rows) if matched is None else matched,
                                        subscribers_matched=(len(subscribers) if subscribers_matched is None
                                                             and subscribers is not None else subscribers_matched)))
        return {**files, MANIFEST: sinks[MANIFEST].done()}
    except BaseException:
        for sink in sinks.values():
            sink.file.close()
        raise


def render_files(**kwargs) -> dict[str, bytes]:
    """`render_package` in memory, each file as bytes (tests, small packages)."""
    return {name: f.file.getvalue() for name, f in render_package(spool=io.BytesIO, **kwargs).items()}


def subscriber_records(data: bytes) -> list:
    """The subscriber records of subscribers.json (its bytes); ValueError when it is not the JSON object with a list
    of subscribers that `render_package` writes."""
    parsed = json.loads(data.decode("utf-8"))
    if not isinstance(parsed, dict) or not isinstance(parsed.get("subscribers"), list):
        raise ValueError("subscribers.json has no list of subscribers")
    return parsed["subscribers"]


def subscriber_count(data: bytes) -> int:
    """The number of subscriber records in subscribers.json (its bytes); ValueError as `subscriber_records`."""
    return len(subscriber_records(data))


def calls_json_count(lines: Iterable[str]) -> int:
    """The number of records in calls.json, read a line at a time (calls_json_records)."""
    return sum(1 for _record in calls_json_records(lines))


def calls_json_records(lines: Iterable[str]) -> Iterator[dict]:
    """The records of calls.json, read a line at a time (`lines`: its text, split at "\\n" only, each line keeping
    its end, e.g. a TextIOWrapper with newline="\\n"). Every record is parsed on its own with json.loads, and the
    lines around them must be exactly the ones `_write_calls` writes, so that the whole is the JSON a reader of the
    file parses. ValueError (json.JSONDecodeError is one) names what is not, where it is met."""
    it = iter(lines)
    if next(it, "") != "{\n":
        raise ValueError("calls.json does not open as the package format writes it")
    line = next(it, "")
    if not (line.startswith(' "request": ') and line.endswith(",\n")):
        raise ValueError("calls.json has no request line")
    json.loads(line[len(' "request": '):-2])
    line = next(it, "")
    if line == _NO_RECORDS.split("\n")[0] + "\n":
        closing = "}"
    elif line == _RECORDS_OPEN + "\n":
        closing = ""
        while not closing:
            record, closing = _calls_json_record(it)
            yield record
    else:
        raise ValueError("calls.json has no records line")
    if next(it, "") != closing or next(it, None) is not None:
        raise ValueError("calls.json does not close as the package format writes it")


def _calls_json_record(it) -> tuple[dict, str]:
    """Read one record of calls.json (from its opening line on) and parse it; return it, and what must follow it:
    "" when another record follows, else the file's last line."""
    if next(it, "") != "  {\n":
        raise ValueError("calls.json: a record does not open where one must")
    parts = ["{"]
    for line in it:
        if line in ("  },\n", "  }\n"):
            record = json.loads("".join(parts) + "}")
            if not isinstance(record, dict):
                raise ValueError("calls.json: a record is not an object")
            if line == "  },\n":
                return record, ""
            if next(it, "") != " ]\n":
                raise ValueError("calls.json: the records do not close")
            return record, "}"
        parts.append(line)
    raise ValueError("calls.json ends inside a record")
