"""A package's stored files, written and read back in chunks, so that neither a file nor its ciphertext need be in
memory whole.

On PostgreSQL a file goes in by COPY, its ciphertext made a chunk at a time from its temporary file as COPY reads
it (crypto.encrypt_chunks), and comes out a slice at a time (substring): ciphertext does not compress, so
PostgreSQL keeps it uncompressed out of line and a slice reads only its own pages. SQLite (the first look) takes
and returns a value whole: there one ciphertext is in memory at a time, and the plaintext read from a view of it.

Read back (the ZIP, the output check), the plaintext is decrypted in chunks (crypto.DecryptingReader), hashed as
it is read, and opened by the output check the way its reader will, without the whole file or its parsed content
in memory. A key rotation seals a file anew the same way, read in slices and written in chunks (stored_file_reseal).

A package's envelope (envelope.py, the .p7m handed out) goes in the same way, by COPY as it is made, hashed as it
goes, and is copied out a slice at a time into the download's own temporary file (stored_envelope_copy), inside
the download's transaction: the response is sent after that transaction has ended, when retention may already
have deleted the row. It is already encrypted, to the authority.

Locks (PostgreSQL; SQLite reads a value whole, in one statement): a stored value read in slices is read under a
shared transaction-level advisory lock on its row's id (FILE_LOCK_CLASS, ENVELOPE_LOCK_CLASS), and whatever
replaces or deletes it takes the same lock exclusively first: a key rotation (stored_file_lock, then
stored_file_reseal) and retention (stored_package_lock). Readers do not wait for each other, and need no more than
SELECT on the tables (a row lock, FOR KEY SHARE, would need UPDATE: a read-only role could not read a package)."""
from __future__ import annotations

import binascii
import csv
import hashlib
import io
import json
from contextlib import contextmanager
from typing import IO, Iterable, Iterator
# Reviewed: the parser reads only our own sealed files, and refuses any DOCTYPE or entity (content_problem).
from xml.parsers import expat

from django.db import connection, models
from django.db.models.functions import Length, Substr
from django.utils.timezone import now

from traffic.exports import neutralised_value
from voipxs.privacy.crypto import STREAM_CHUNK, DecryptingReader, encrypt_chunks, encrypt_stream

from . import problems as P
from .models import Package, PackageEnvelope, PackageFile
from .output_scope import RecordTally, ScopeRule, etsi_record_id, generalized_second, iso_second
from .rendering import CSV_HEADER, SUBSCRIBERS, calls_json_records, subscriber_records

_COPY = f"COPY {PackageFile._meta.db_table} (package_id, name, sha256, size, content_enc) FROM STDIN"
_COPY_SPECIAL = ("\\", "\t", "\n", "\r")  # what COPY's text format would read as something else
# The content before its SHA-256, which is known only once the content has gone in.
_COPY_ENVELOPE = (f"COPY {PackageEnvelope._meta.db_table} (package_id, recipient_sha256, zip_sha256, created_at, "
                  "content, sha256) FROM STDIN")
# pg_advisory_xact_lock(class, id) classes, beside voipxs.privacy.audit.SEAL_LOCK_ID and traffic's importer lock
# (7_300_010): a package file's value and a package envelope's content, each keyed by its row's id.
FILE_LOCK_CLASS = 7_300_011
ENVELOPE_LOCK_CLASS = 7_300_012


def _sliced() -> bool:
    return connection.vendor == "postgresql"


class _Pieces(io.RawIOBase):
    """The bytes of `pieces` as a file (what COPY reads from)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces, self._pending = pieces, memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._pending = memoryview(piece)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def package_file_aad(package_id: int, name: str) -> bytes:
    """The associated data a package's file is sealed with: the package and the file's name, so that a ciphertext
    cannot be moved to another package or file."""
    return f"disclosure-package:{package_id}:{name}".encode()


def _copy_line(package: Package, name: str, sha256: str, file: IO[bytes], size: int, aad: bytes) -> Iterator[bytes]:
    if any(c in name + sha256 for c in _COPY_SPECIAL):
        raise ValueError("a package file's name or hash with a character COPY would change")
    yield f"{package.pk}\t{name}\t{sha256}\t{size}\t\\\\x".encode()  # bytea in hex; the backslash doubled
    for piece in encrypt_chunks(file, size, aad=aad):
        yield binascii.hexlify(piece)  # bytes at once, as _envelope_line writes them
    yield b"\n"


def _copy(statement: str, line: Iterator[bytes]) -> None:
    """Run `statement` (COPY ... FROM STDIN) with `line`, read as COPY asks for it."""
    with connection.cursor() as cursor, connection.wrap_database_errors:  # psycopg2's errors as Django's
        cursor.cursor.copy_expert(statement, _Pieces(line), size=STREAM_CHUNK)


def stored_file_create(*, package: Package, name: str, sha256: str, file: IO[bytes], size: int, aad: bytes) -> None:
    """Store one file of `package`, encrypted from `file` (its `size` bytes from where it stands, in chunks)."""
    if not _sliced():
        PackageFile.objects.create(package=package, name=name, sha256=sha256, size=size,
                                   content_enc=encrypt_stream(file, size, aad=aad))
        return
    _copy(_COPY, _copy_line(package, name, sha256, file, size, aad))


class _DatabaseValue:
    """A stored file's ciphertext in the database (or another binary `field` of a `model`'s row), read a slice at a
    time: what DecryptingReader takes (len() and slicing that returns bytes). Slicing beyond the end gives what
    there is, as with bytes."""

    def __init__(self, pk: int, *, model: type[models.Model] = PackageFile, field: str = "content_enc") -> None:
        self._files, self._field = model.objects.filter(pk=pk), field
        self._length = self._files.values_list(Length(field), flat=True).get()

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, part: slice) -> bytes:
        start, stop, _step = part.indices(self._length)
        if stop <= start:
            return b""
        return bytes(self._files.values_list(Substr(self._field, start + 1, stop - start), flat=True).get())


def _lock(lock_class: int, pk: int, *, exclusive: bool = False) -> None:
    """Take the advisory lock (lock_class, pk) until the transaction ends, shared (a read) or exclusive (a change);
    outside a transaction (autocommit) it ends with its statement. The id goes in as an int4, the key's second
    half: distinct for the first 2**32 ids, beyond which two rows may share a key, and then only wait for each
    other."""
    key = (pk + 2**31) % 2**32 - 2**31
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [lock_class, key])


def _hold(package: Package, name: str) -> None:
    """Take the file's read lock (shared) before anything of it is read: a key rotation (which takes it exclusively,
    stored_file_lock) cannot replace the value between two slices of one read (the read would fail at its tag),
    and a read that waited for a rotation reads the new value throughout (each statement after the wait sees what
    the rotation committed). Readers do not wait for each other."""
    _lock(FILE_LOCK_CLASS, package.files.filter(name=name).values_list("pk", flat=True).get())


def stored_file_lock(pk: int) -> None:
    """Take the write lock of the stored file `pk` (PackageFile) until the transaction ends, before it is looked at
    and sealed anew (rotation.py): it waits for the reads under way, and the reads that start meanwhile wait for
    it (_hold). No-op on SQLite."""
    if _sliced():
        _lock(FILE_LOCK_CLASS, pk, exclusive=True)


def stored_package_lock(package_id: int) -> None:
    """Take the write lock of every stored file of the package and of every envelope made of them until the
    transaction ends, before they are deleted (retention): it waits for the reads under way, which would otherwise
    find the rest of a value gone. The files' locks in the order a ZIP reads them (by name, as Python sorts), then
    the envelopes' (read after the ZIP), so that a reader and the deletion never wait for each other in a circle.
    Take it before the package's row: a download inserts rows that refer to that row. No-op on SQLite."""
    if not _sliced():
        return
    for _name, pk in sorted(PackageFile.objects.filter(package_id=package_id).values_list("name", "pk")):
        _lock(FILE_LOCK_CLASS, pk, exclusive=True)
    for pk in PackageEnvelope.objects.filter(package_id=package_id).order_by("pk").values_list("pk", flat=True):
        _lock(ENVELOPE_LOCK_CLASS, pk, exclusive=True)


class StoredFile(io.RawIOBase):
    """One stored file of `package`, read as plaintext. Read it to the end (`drain`), then `matches()` says whether
    it is the content whose SHA-256 was stored; a ciphertext that was changed, or made with another key, raises
    crypto.DecryptionError (a CryptoError) instead, at the start or at the end. Until then what was read is
    unauthenticated: it goes only into private temporary files and checks, which are discarded on an error."""

    def __init__(self, package: Package, name: str, *, aad: bytes) -> None:
        if _sliced():
            _hold(package, name)
        fields = ("name", "sha256") if _sliced() else ("name", "sha256", "content_enc")
        stored = package.files.only(*fields).get(name=name)
        self.pk, self.name, self._sha256 = stored.pk, stored.name, stored.sha256
        self._source = DecryptingReader(_DatabaseValue(stored.pk) if _sliced() else stored.content_enc, aad=aad)
        self.size = self._source.size  # of the plaintext
        self._digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._source.readinto(buffer)
        self._digest.update(memoryview(buffer)[:count])
        return count

    def drain(self) -> None:
        """Read what is left (hashed, and the tag checked at the end)."""
        while self.read(STREAM_CHUNK):
            pass

    def matches(self) -> bool:
        return self._digest.hexdigest() == self._sha256

    def close(self) -> None:
        self._source.close()
        super().close()


def _envelope_line(fields: str, pieces: Iterable[bytes]) -> Iterator[bytes]:
    """The COPY line of an envelope (_COPY_ENVELOPE): `fields`, the content from `pieces`, and its SHA-256."""
    digest = hashlib.sha256()
    yield f"{fields}\t\\\\x".encode()
    for piece in pieces:
        digest.update(piece)
        yield binascii.hexlify(piece)  # bytes at once: piece.hex().encode() would hold it as text too
    yield f"\t{digest.hexdigest()}\n".encode()


def stored_envelope_create(*, package: Package, recipient_sha256: str, zip_sha256: str,
                           pieces: Iterable[bytes]) -> PackageEnvelope:
    """Store the envelope whose DER `pieces` gives a piece at a time (envelope.envelope_chunks), with its SHA-256.
    The row comes back without its content (stored_envelope_open reads that)."""
    if not _sliced():
        content = b"".join(pieces)
        return PackageEnvelope.objects.create(package=package, recipient_sha256=recipient_sha256,
                                              zip_sha256=zip_sha256, sha256=hashlib.sha256(content).hexdigest(),
                                              content=content)
    if any(c in recipient_sha256 + zip_sha256 for c in _COPY_SPECIAL):
        raise ValueError("a hash with a character COPY would change")
    _copy(_COPY_ENVELOPE, _envelope_line(f"{package.pk}\t{recipient_sha256}\t{zip_sha256}\t{now().isoformat()}",
                                         pieces))
    return PackageEnvelope.objects.defer("content").get(package=package, recipient_sha256=recipient_sha256,
                                                        zip_sha256=zip_sha256)


def stored_envelope_copy(envelope: PackageEnvelope, target: IO[bytes]) -> None:
    """Copy the stored envelope into the empty file `target` (a download's temporary file), read a STREAM_CHUNK
    slice at a time under its read lock (PostgreSQL) and hashed as it goes, and leave `target` at its start. Called
    in the download's transaction, so that what is handed out is the one stored envelope, whole, whatever happens
    to the row afterwards. ValueError if what was read is not the content whose SHA-256 was stored."""
    if _sliced():
        _lock(ENVELOPE_LOCK_CLASS, envelope.pk)
        value = _DatabaseValue(envelope.pk, model=PackageEnvelope, field="content")
    else:
        value = bytes(PackageEnvelope.objects.values_list("content", flat=True).get(pk=envelope.pk))
    digest = hashlib.sha256()
    for start in range(0, len(value), STREAM_CHUNK):
        piece = value[start:start + STREAM_CHUNK]
        digest.update(piece)
        target.write(piece)
    target.seek(0)
    if digest.hexdigest() != envelope.sha256:
        raise ValueError("the stored envelope is not the content whose SHA-256 was stored")


@contextmanager
def _text(stream: io.RawIOBase) -> Iterator[io.TextIOWrapper]:
    """`stream` as UTF-8 text split at "\\n" only, as `bytes.decode` and io.StringIO read it; `stream` stays open
    for the caller (the wrappers are detached, not closed, whatever happens)."""
    buffered = io.BufferedReader(stream, STREAM_CHUNK)
    text = io.TextIOWrapper(buffered, encoding="utf-8", newline="\n")
    try:
        yield text
    finally:
        text.detach()
        buffered.detach()


def _refuse_doctype(*_args) -> None:
    raise ValueError("a DOCTYPE or entity declaration")  # our XML has none; one would be an attack or damage


def _csv_problem(name: str, stream: io.RawIOBase, record_count: int | None, rule: ScopeRule | None) -> list[str]:
    tally = RecordTally(name, rule, parse=iso_second)
    with _text(stream) as text:
        reader = csv.reader(text)
        header = next(reader, None)
        for row in reader:  # to the end: a file that does not decode is that, whatever its header
            cells = dict(zip(CSV_HEADER, map(neutralised_value, row))) if len(row) == len(CSV_HEADER) else {}
            tally.add(record_id=cells.get("record_id", ""), starts=[cells["start_utc"]] if cells else [],
                      numbers=[cells.get("originating_party", ""), cells.get("terminating_party", "")])
    if header != CSV_HEADER:
        return [P.problem(P.HEADER_WRONG, file=name)]
    if record_count is not None and tally.count != record_count:
        return [P.problem(P.ROWS_DIFFER, file=name, n=tally.count, manifest=record_count), *tally.problems(None)]
    return tally.problems(None)


def _json_problem(name: str, stream: io.RawIOBase, rule: ScopeRule | None) -> list[str]:
    """calls.json, a record at a time (its count against the manifest: production.verify_zip)."""
    tally = RecordTally(name, rule, parse=iso_second)
    with _text(stream) as text:
        for record in calls_json_records(text):
            tally.add(record_id=str(record.get("record_id", "")), starts=[record.get("start_utc")],
                      numbers=[str(record.get("originating_party", "")), str(record.get("terminating_party", ""))])
    return tally.problems(None)


def _subscribers_problem(name: str, stream: io.RawIOBase, record_count: int | None,
                         rule: ScopeRule | None) -> list[str]:
    """subscribers.json (small, parsed whole): every subscriber in the approved scope, no more of them than the
    authority's cap, a cap of their own apart from the calls' (rendering._max_hits), and as many as the manifest's
    subscriber_count."""
    records = subscriber_records(stream.readall())
    count, cap = len(records), rule.max_hits if rule is not None else None
    problems = [P.problem(P.OVER_CAP, file=name, n=count, cap=cap)] if cap is not None and count > cap else []
    outside = rule.first_subscriber_outside(records) if rule is not None else None
    if outside is not None:
        problems.append(P.problem(P.SUBSCRIBER_OUTSIDE, file=name, n=outside[0], reason=outside[1]))
    if record_count is not None and count != record_count:
        problems.append(P.problem(P.RECORDS_DIFFER, file=name, n=count, manifest=record_count))
    return problems


def _xml_problem(name: str, stream: io.RawIOBase, record_count: int | None, rule: ScopeRule | None) -> list[str]:
    """The XML file, streamed through expat; each ETSI ResponseRecord (its partyNumbers, startTimes and the cdrID
    of its otherInformation) is counted and held against the rule as its end is read."""
    tally = RecordTally(name, rule, parse=generalized_second)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    record: dict[str, list[str]] = {}
    text: list[str] = []

    def start(tag: str, _attributes) -> None:
        if tag.rpartition(" ")[2] == "ResponseRecord":
            record.update(partyNumber=[], startTime=[], otherInformation=[])
        text.clear()

    def end(tag: str) -> None:
        tag = tag.rpartition(" ")[2]
        if tag == "ResponseRecord" and record:
            tally.add(record_id=etsi_record_id("".join(record["otherInformation"])), numbers=record["partyNumber"],
                      starts=record["startTime"])
            record.clear()
        elif tag in record:
            record[tag].append("".join(text))
        text.clear()

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = lambda data: text.append(data) if record else None
    while chunk := stream.read(STREAM_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return tally.problems(record_count)


def content_problem(name: str, stream: io.RawIOBase, record_count: int | None,
                    rule: ScopeRule | None = None) -> str | None:
    """Open one file, read from `stream`, the way its reader will and say what is wrong with it (None: it opens).
    calls.json is read a line at a time in the layout its writer gives it (rendering.calls_json_records); the other
    JSON files (the manifest, subscribers) are small and parsed whole. `record_count`: the number of records
    calls.csv and the XML file, or of subscribers subscribers.json, must have (None: not checked). `rule`: what every
    record of the three files that carry calls must keep to, the approved scope and the cap, and the cap on
    subscribers.json's (output_scope.py; None: not checked)."""
    try:
        if name == "calls.json":
            problems = _json_problem(name, stream, rule)
        elif name == SUBSCRIBERS:
            problems = _subscribers_problem(name, stream, record_count, rule)
        elif name.endswith(".json"):
            json.loads(stream.readall().decode("utf-8"))
            problems = []
        elif name.endswith(".csv"):
            problems = _csv_problem(name, stream, record_count, rule)
        elif name.endswith(".xml"):
            problems = _xml_problem(name, stream, record_count, rule)
        else:
            return P.problem(P.TYPE_UNKNOWN, file=name)
    except (ValueError, UnicodeDecodeError, csv.Error, expat.ExpatError) as exc:
        return P.problem(P.UNOPENABLE, file=name, error=type(exc).__name__)
    return P.problems_joined(problems) if problems else None


def stored_file_reseal(*, package: Package, name: str, aad: bytes) -> None:
    """Seal one stored file of `package` anew under the newest key with the same associated data (key rotation),
    in chunks as it was stored: its ciphertext read a slice at a time and decrypted (StoredFile), encrypted again
    (crypto.encrypt_chunks) into a large object, which then replaces the value in one statement. Not by COPY, as
    stored_file_create writes: the slices are read on the same connection, which a COPY holds until it ends. The
    plaintext, its SHA-256 and size stay what they were. Call it in a transaction, with the file's write lock
    taken before the file was looked at (stored_file_lock): a value that does not open raises crypto.CryptoError
    before anything is replaced (at its end at the latest, where the tag is checked), and the rollback leaves the
    old ciphertext, and no large object, behind."""
    with StoredFile(package, name, aad=aad) as plain:
        if not _sliced():  # SQLite takes a value whole
            PackageFile.objects.filter(pk=plain.pk).update(content_enc=encrypt_stream(plain, plain.size, aad=aad))
            return
        pieces = encrypt_chunks(plain, plain.size, aad=aad)
        with connection.cursor() as cursor:
            header = next(pieces)
            cursor.execute("SELECT lo_from_bytea(0, %s)", [header])
            (oid,), written = cursor.fetchone(), len(header)
            for piece in pieces:
                cursor.execute("SELECT lo_put(%s, %s, %s)", [oid, written, piece])
                written += len(piece)
            # Reviewed: the table's name is the model's own; every value stays a bound parameter.
            table = PackageFile._meta.db_table
            cursor.execute(f"UPDATE {table} SET content_enc = lo_get(%s) WHERE id = %s", [oid, plain.pk])  # nosec B608
            cursor.execute("SELECT lo_unlink(%s)", [oid])
