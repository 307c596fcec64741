"""The package builder. Rows come only from `disclosure_scope_rows` (the approved scope); each one is
checked against that scope again before the package is sealed, so a bug in the query, or a row
slipped in, fails the production instead of leaving the house.

A package: calls.csv, calls.json, calls_etsi.xml (ETSI TS 102 657 shape), subscribers.json when user
data is asked, and manifest.json (SHA-256 of every file, counts, legal basis, scope, approvers).
Files are stored encrypted (AES-GCM, the package and file name as associated data). The ZIP handed
out is deterministic and carries in its comment the SHA-256 of all bytes before the comment, so that
`verify_package` notices a change to any byte, not only to a file's content, and our Ed25519 signature of
that SHA-256 (signing.py), so that a change cannot be hidden by recomputing it.

Memory does not grow with the package beyond the rows and one stored file's ciphertext (the value the database
takes and returns whole), so that a package of hundreds of thousands of calls fits a web or worker process: the
files are rendered a batch of records at a time into temporary files (rendering.py) and encrypted from them in
chunks (crypto.encrypt_stream); the ZIP is written to a temporary file (`package_zip_open`), each stored file
decrypted in chunks straight into it (stored.py), and the output check reads the files the same way. The bytes
are exactly those of the whole-in-memory build these replaced. A temporary file holds personal data in plain
text: it stays in memory up to ZIP_SPOOL_BYTES, and beyond that goes to an unnamed file (mode 0600, unlinked as
it is made, so that nothing is left on disk even when the process dies) in PRIVATE_FILES_DIR/package-spool; it is
gone once closed.
"""
from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import IO, BinaryIO, Callable, Iterable, Iterator, TypeVar

from django.conf import settings
from django.utils.timezone import now as tz_now

from voipxs.privacy.crypto import CryptoError, decrypt_bytes

from . import problems as P
from .bases import PRESERVATION_BASES, scope_excess
from .models import DisclosureRequest, Package
from .output_scope import ScopeRule
from .rendering import MANIFEST, SUBSCRIBERS, RenderedFile, calls_json_count, render_package, subscriber_count
from .selectors import Row, Scope, disclosure_scope_rows, disclosure_subscribers
from .signing import SEAL, published_keys, seal_signature, signature_problem
from .stored import StoredFile, content_problem, stored_file_create
from .stored import package_file_aad as _aad

ZIP_DIGEST_PREFIX = b"sha256:"
ZIP_SPOOL_BYTES = 4 << 20  # a package's ZIP stays in memory up to this size, then goes to an unnamed file
_CHUNK = 1 << 20
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every entry's time: the same package gives the same bytes
T = TypeVar("T")


class ScopeViolation(Exception):
    """A produced row is outside the approved scope. Carries the row's CDR id only."""


def check_rows(scope: Scope, rows: Iterable[Row]) -> None:
    for row in rows:
        if not scope.admits(src_index=row.src_index, dst_index=row.dst_index, account_id=row.account_id,
                            started_at=row.started_at):
            raise ScopeViolation(f"record {row.cdr_id} is outside the approved scope")


def check_basis(request: DisclosureRequest) -> None:
    """The scope against its legal basis once more (bases.py), whatever intake and narrowing let through
    or a changed row says: a preservation hands nothing over; no category or future reach beyond the basis."""
    excess = "legal_basis" if request.legal_basis in PRESERVATION_BASES else scope_excess(
        legal_basis=request.legal_basis, categories=request.categories, window_end=request.window_end,
        received_at=request.received_at)
    if excess:
        raise ScopeViolation(f"the scope goes beyond its legal basis ({excess})")


def capped(rows: list[Row], max_hits: int | None) -> list[Row]:
    """The records handed over: all of `rows` (in time order, as the scope's query sorts them), or, where the
    authority capped the answer (ETSI maxHits), the first `max_hits` of them. The manifest and the request's page
    say how many matched and that the answer was capped (rendering.py); nothing is cut silently."""
    return rows if max_hits is None else rows[:max_hits]


def build_package(*, request: DisclosureRequest, actor, inject: Iterable[Row] = ()) -> Package:
    """Collect, check, render and store. `inject` adds rows after the query and before the check (tests
    use it to prove that an out-of-scope row makes the production fail). Every matching row is checked; at most
    the request's maxHits of them go into the package (`capped`), and, where user data are asked, at most that many
    subscriber records too, the first by account id (selectors.disclosure_subscribers; a cap per category, as
    rendering._max_hits explains)."""
    check_basis(request)
    scope, rows = disclosure_scope_rows(actor=actor, request=request)
    rows = rows + list(inject)
    check_rows(scope, rows)
    matched, rows = len(rows), capped(rows, request.max_hits)
    subscribers_matched, subscribers = (
        disclosure_subscribers(actor=actor, request=request, scope=scope, max_hits=request.max_hits)
        if "user_data" in scope.categories else (None, None))
    approvers = sorted(request.approvals.values_list("officer_id", flat=True))
    files = render_package(spool=_spool, req=request, scope=scope, rows=rows, subscribers=subscribers,
                           approvers=approvers, generated_at=tz_now(), matched=matched,
                           subscribers_matched=subscribers_matched)
    record_count = len(rows)
    del rows  # in the files now: not kept while they are encrypted and stored
    try:
        return _store(request, files, record_count=record_count)
    finally:
        for f in files.values():
            f.file.close()


def _store(request: DisclosureRequest, files: dict[str, RenderedFile], *, record_count: int) -> Package:
    """The package and its files, each encrypted from its temporary file in chunks (stored.stored_file_create)."""
    manifest = json.load(files[MANIFEST].file)
    files[MANIFEST].file.seek(0)
    package = Package.objects.create(request=request, manifest=manifest, record_count=record_count)
    for name, f in files.items():
        stored_file_create(package=package, name=name, sha256=f.sha256, file=f.file, size=f.size,
                           aad=_aad(package.pk, name))
    return package


def _stored_file(package: Package, name: str) -> bytes:
    """One stored file, decrypted whole and matched to its hash (ScopeViolation otherwise): tests, small reads."""
    f = package.files.only("name", "sha256", "content_enc").get(name=name)
    data = decrypt_bytes(f.content_enc, aad=_aad(package.pk, f.name))
    if hashlib.sha256(data).hexdigest() != f.sha256:
        raise ScopeViolation(f"stored file {f.name} does not match its hash")
    return data


def _stored_names(package: Package) -> list[str]:
    # Sorted here, not by the database: the ZIP's order is Python's, whatever the collation.
    return sorted(package.files.values_list("name", flat=True))


def _stored_files(package: Package) -> Iterator[tuple[str, StoredFile]]:
    """(name, plaintext stream) of every stored file, in the ZIP's order, one file at a time; each is closed when
    the next one is asked for."""
    for name in _stored_names(package):
        with StoredFile(package, name, aad=_aad(package.pk, name)) as stored:
            yield name, stored


def package_files(package: Package) -> dict[str, bytes]:
    """Every file, decrypted, at once (tests and small reads; the ZIP is built with `package_zip_open`)."""
    return {name: _stored_file(package, name) for name in _stored_names(package)}


def _spool_dir() -> Path:
    path = Path(settings.PRIVATE_FILES_DIR) / "package-spool"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _spool() -> IO[bytes]:
    """An empty temporary file for a package: in memory up to ZIP_SPOOL_BYTES, then an unnamed file (mkstemp's mode
    0600, unlinked at once) in the private directory. Closing it deletes it."""
    return tempfile.SpooledTemporaryFile(max_size=ZIP_SPOOL_BYTES, dir=_spool_dir(), prefix="package-")


def _sha256_upto(fh: BinaryIO, end: int) -> hashlib._Hash:
    """The SHA-256 of `fh`'s first `end` bytes, read in chunks (the object, to go on hashing)."""
    digest = hashlib.sha256()
    fh.seek(0)
    left = end
    while left:
        chunk = fh.read(min(_CHUNK, left))
        if not chunk:
            raise ValueError("the file ended early")
        digest.update(chunk)
        left -= len(chunk)
    return digest


def _zip_member(zf: zipfile.ZipFile, name: str, data: bytes | StoredFile) -> None:
    """Add one file: bytes as they are; a stored file streamed in chunks into the member, then matched to its hash
    (ScopeViolation otherwise). Both give the same bytes: the member's header gets the size first, as writestr
    gives it (so the same ZIP64 choice), and is rewritten with the CRC and sizes when the member closes; deflate's
    output does not depend on how its input is cut."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    if isinstance(data, (bytes, bytearray)):
        zf.writestr(info, data)
        return
    info.file_size = data.size
    with zf.open(info, "w") as member:
        while chunk := data.read(_CHUNK):
            member.write(chunk)
    if not data.matches():
        raise ScopeViolation(f"stored file {name} does not match its hash")


def _write_sealed_zip(target: BinaryIO, files: Iterable[tuple[str, bytes | StoredFile]], *, sign: bool) -> str:
    """Write the sealed ZIP of `files` ((name, content or stream), in the order given) into the empty, seekable
    `target` and return the SHA-256 of the whole; `target` is left at its start. Only the file being added is in
    memory, and of a stored file only its ciphertext and a chunk."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            _zip_member(zf, name, data)
            del data  # before the next file is decrypted
    # Seal the archive bytes (headers, timestamps, directory) in the comment: a ZIP reader checks only
    # CRCs of file data; this makes any changed byte of the archive detectable.
    # The end-of-central-directory record ends with the 2-byte comment length (0 so far): the seal is the
    # SHA-256 of everything before it, and the comment replaces it.
    body_end = target.seek(0, io.SEEK_END) - 2
    digest = _sha256_upto(target, body_end)
    seal = digest.hexdigest().encode()
    comment = ZIP_DIGEST_PREFIX + seal + (seal_signature(seal) if sign else b"")
    tail = len(comment).to_bytes(2, "little") + comment
    target.seek(body_end)
    target.write(tail)
    digest.update(tail)
    target.seek(0)
    return digest.hexdigest()


def zip_bytes(files: dict[str, bytes], *, sign: bool = True) -> bytes:
    """The sealed ZIP of `files` in memory (small archives, tests); packages go through `package_zip_open`."""
    buf = io.BytesIO()
    _write_sealed_zip(buf, ((name, files[name]) for name in sorted(files)), sign=sign)
    return buf.getvalue()


def package_spooled(fill: Callable[[IO[bytes]], T]) -> tuple[IO[bytes], T]:
    """A temporary file for a package's download (see the module's docstring) written by `fill`, with what `fill`
    returned; `fill` leaves it at its start. The caller closes it (a FileResponse does), which deletes it; if
    `fill` raises, it is closed here."""
    fh = _spool()
    try:
        return fh, fill(fh)
    except BaseException:
        fh.close()
        raise


def package_zip_open(package: Package) -> tuple[IO[bytes], str]:
    """The package's sealed ZIP in a temporary file (package_spooled), decrypted one stored file at a time, and its
    SHA-256. The file is open at its start: the caller closes it (a FileResponse does), which deletes it. The bytes
    are the same as `zip_bytes(package_files(package))`."""
    return package_spooled(lambda fh: _write_sealed_zip(fh, _stored_files(package), sign=True))


def package_zip(package: Package) -> bytes:
    """The sealed ZIP's bytes (tests, small packages): `package_zip_open` read into memory."""
    fh, _digest = package_zip_open(package)
    with fh:
        return fh.read()


def _stored_problem(package: Package, name: str, rule: ScopeRule | None) -> tuple[str | None, str | None]:
    """(what is wrong with the stored file: it does not decrypt, or not to its stored SHA-256; what is wrong with
    its content, content_problem) of one file, read once, in chunks."""
    try:
        with StoredFile(package, name, aad=_aad(package.pk, name)) as stored:
            counted = name in ("calls.csv", "calls_etsi.xml")  # calls.json's count: verify_zip
            count = package.manifest.get("subscriber_count") if name == SUBSCRIBERS else None
            problem = content_problem(name, stored, package.record_count if counted else count, rule)
            stored.drain()
            matches = stored.matches()
    except CryptoError:  # a wrong key, a damaged or tampered ciphertext: one finding each
        return P.problem(P.UNDECRYPTABLE, file=name), None
    if not matches:
        return P.problem(P.STORED_HASH_DIFFERS, file=name), None
    return None, problem


def package_output_problems(package: Package, *, rule: ScopeRule | None = None) -> list[str]:
    """The output check's own look at the package: every stored file is decrypted and matched to its
    hash, the sealed ZIP the authority gets is rebuilt and verified against its manifest, and each file is
    opened as its reader will (JSON, CSV with the format's header and the manifest's record count, XML
    without any DOCTYPE and with that count too). With `rule` (output_scope.disclosure_output_scope, which the
    output check always gives), every record of calls.csv, calls.json and calls_etsi.xml is held against the
    approved scope and the authority's cap. Empty: the package can be handed over. Problems name files, never data.
    Each file is read in chunks (stored.py), and the ZIP is rebuilt in a temporary file (package_zip_open)."""
    problems: list[str] = []
    opened: list[str] = []
    content_problems: list[str] = []
    for name in _stored_names(package):
        stored_problem, problem = _stored_problem(package, name, rule)
        if stored_problem:
            problems.append(stored_problem)
            continue
        opened.append(name)
        if problem:
            content_problems.append(problem)
    if not opened or MANIFEST not in opened:
        return problems + [P.problem(P.MISSING_OR_UNREADABLE, file=MANIFEST)]
    if problems:
        return problems
    fh, _digest = package_zip_open(package)
    with fh:
        return verify_zip(fh) + content_problems


def verify_zip(data: bytes | BinaryIO, keys: dict | None = None) -> list[str]:
    """Problems found, each naming the file (empty: the package matches its manifest and carries a signature
    by one of `keys`, fingerprint -> Ed25519 public key; None: every key we ever signed with). `data`: the ZIP's
    bytes, or a seekable binary file holding them (read in chunks, never whole)."""
    source = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        return [P.problem(P.NOT_A_ZIP)]
    # The seal is the archive's last bytes: comment length (2 bytes) + "sha256:<64 hex>" + its signature.
    seal = zf.comment
    match = SEAL.fullmatch(seal)
    tail = len(seal).to_bytes(2, "little") + seal
    body_end = source.seek(0, io.SEEK_END) - len(tail)
    source.seek(body_end)
    if match is None or source.read(len(tail)) != tail:
        problems.append(P.problem(P.NO_SEAL))
    elif _sha256_upto(source, body_end).hexdigest().encode() != match["digest"]:
        problems.append(P.problem(P.SEAL_DIFFERS))
    else:
        problem = signature_problem(match, published_keys() if keys is None else keys)
        if problem:
            problems.append(problem)
    try:
        manifest = json.loads(zf.read(MANIFEST))
        listed = manifest["files"]
    except Exception:  # noqa: BLE001 - any damage to the manifest is one finding
        return problems + [P.problem(P.MISSING_OR_UNREADABLE, file=MANIFEST)]
    names = set(zf.namelist()) - {MANIFEST}
    for name in sorted(names - set(listed)):
        problems.append(P.problem(P.NOT_LISTED, file=name))
    damaged: set[str] = set()  # files whose bytes are not the manifest's: their records are not counted below
    for name, meta in sorted(listed.items()):
        digest, size = hashlib.sha256(), 0
        try:
            with zf.open(name) as member:
                while chunk := member.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except KeyError:
            problem = P.LISTED_MISSING
        except Exception:  # noqa: BLE001 - CRC errors, broken compression
            problem = P.DAMAGED
        else:
            if digest.hexdigest() == meta.get("sha256") and size == meta.get("size"):
                continue
            problem = P.HASH_DIFFERS
        problems.append(P.problem(problem, file=name))
        damaged.add(name)
    return problems + _record_count_problems(zf, manifest, damaged)


def _record_count_problems(zf: zipfile.ZipFile, manifest: dict, damaged: set[str]) -> list[str]:
    """The records of calls.json and subscribers.json counted against the manifest (record_count, subscriber_count:
    what was delivered, capped or not); a file in `damaged` (its bytes are not the manifest's) is not read."""
    listed, problems = manifest["files"], []
    if "calls.json" in listed and "calls.json" not in damaged:
        try:  # a line at a time, in the layout its writer gives it (rendering.calls_json_count)
            with zf.open("calls.json") as member:
                count = calls_json_count(io.TextIOWrapper(member, encoding="utf-8", newline="\n"))
        except ValueError:  # json's errors and UnicodeDecodeError are ValueErrors too
            return [P.problem(P.JSON_LAYOUT, file="calls.json")]
        if count != manifest.get("record_count"):
            problems.append(P.problem(P.COUNT_DIFFERS, file="calls.json"))
    if SUBSCRIBERS in listed and SUBSCRIBERS not in damaged:
        try:  # small, parsed whole
            count = subscriber_count(zf.read(SUBSCRIBERS))
        except ValueError:
            count = None
        if count != manifest.get("subscriber_count"):
            problems.append(P.problem(P.COUNT_DIFFERS, file=SUBSCRIBERS))
    return problems
