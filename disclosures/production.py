"""The package builder. Rows come only from `disclosure_scope_rows` (the approved scope); each one is
checked against that scope again before the package is sealed, so a bug in the query, or a row
slipped in, fails the production instead of leaving the house.

A package: calls.csv, calls.json, calls_etsi.xml (ETSI TS 102 657 shape), subscribers.json when user
data is asked, and manifest.json (SHA-256 of every file, counts, legal basis, scope, approvers).
Files are stored encrypted (AES-GCM, the package and file name as associated data). The ZIP handed
out is deterministic and carries in its comment the SHA-256 of all bytes before the comment, so that
`verify_package` notices a change to any byte, not only to a file's content, and our Ed25519 signature of
that SHA-256 (signing.py), so that a change cannot be hidden by recomputing it.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta
from typing import Iterable
# Reviewed: the parser reads only our own sealed files, and refuses any DOCTYPE or entity (_content_problem).
from xml.parsers import expat

from django.conf import settings
from django.utils.timezone import now as tz_now

from voipxs.privacy.crypto import decrypt_bytes, encrypt_bytes

from .bases import PRESERVATION_BASES, scope_excess
from .models import DisclosureRequest, Package, PackageFile
from .selectors import Row, Scope, disclosure_scope_rows, disclosure_subscribers
from .signing import SEAL, published_keys, seal_signature, signature_problem

MANIFEST = "manifest.json"
ZIP_DIGEST_PREFIX = b"sha256:"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = ["record_id", "start_utc", "end_utc", "duration_s", "billsec", "direction", "disposition",
              "originating_party", "terminating_party", "call"]  # call: the legs of one call share it


class ScopeViolation(Exception):
    """A produced row is outside the approved scope. Carries the row's CDR id only."""


def _neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def check_rows(scope: Scope, rows: Iterable[Row]) -> None:
    for row in rows:
        if not scope.admits(src_index=row.src_index, dst_index=row.dst_index, account_id=row.account_id,
                            started_at=row.started_at):
            raise ScopeViolation(f"record {row.cdr_id} is outside the approved scope")


def render_files(*, req: DisclosureRequest, scope: Scope, rows: list[Row], subscribers: list[dict] | None,
                 approvers: list[int], generated_at) -> dict[str, bytes]:
    from .etsi import render

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    records = []
    for r in rows:
        end = r.started_at + timedelta(seconds=r.duration)
        cells = [r.cdr_id, _iso(r.started_at), _iso(end), r.duration, r.billsec, r.direction, r.disposition, r.src, r.dst,
                 r.call]
        writer.writerow([_neutralise(c) for c in cells])
        records.append(dict(zip(CSV_HEADER, cells)))
    files = {
        "calls.csv": out.getvalue().encode(),
        "calls.json": json.dumps({"request": req.pk, "records": records}, ensure_ascii=False, indent=1).encode(),
        "calls_etsi.xml": render(request_id=req.pk, reference=req.reference, authority=req.authority.name,
                                 provider_id=settings.DISCLOSURE_PROVIDER_ID, legal_basis=req.get_legal_basis_display(),
                                 generated_at=generated_at, rows=rows),
    }
    if subscribers is not None:
        files["subscribers.json"] = json.dumps({"request": req.pk, "subscribers": subscribers}, ensure_ascii=False,
                                               indent=1).encode()
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
        "record_count": len(rows),
        "subscriber_count": len(subscribers) if subscribers is not None else None,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for name, data in sorted(files.items())},
    }
    files[MANIFEST] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    return files


def _aad(package_id: int, name: str) -> bytes:
    return f"disclosure-package:{package_id}:{name}".encode()


def check_basis(request: DisclosureRequest) -> None:
    """The scope against its legal basis once more (bases.py), whatever intake and narrowing let through
    or a changed row says: a preservation hands nothing over; no category or future reach beyond the basis."""
    excess = "legal_basis" if request.legal_basis in PRESERVATION_BASES else scope_excess(
        legal_basis=request.legal_basis, categories=request.categories, window_end=request.window_end,
        received_at=request.received_at)
    if excess:
        raise ScopeViolation(f"the scope goes beyond its legal basis ({excess})")


def build_package(*, request: DisclosureRequest, actor, inject: Iterable[Row] = ()) -> Package:
    """Collect, check, render and store. `inject` adds rows after the query and before the check (tests
    use it to prove that an out-of-scope row makes the production fail)."""
    check_basis(request)
    scope, rows = disclosure_scope_rows(actor=actor, request=request)
    rows = rows + list(inject)
    check_rows(scope, rows)
    subscribers = (disclosure_subscribers(actor=actor, request=request, scope=scope)
                   if "user_data" in scope.categories else None)
    approvers = sorted(request.approvals.values_list("officer_id", flat=True))
    generated_at = tz_now()
    files = render_files(req=request, scope=scope, rows=rows, subscribers=subscribers, approvers=approvers,
                         generated_at=generated_at)
    package = Package.objects.create(request=request, manifest=json.loads(files[MANIFEST]), record_count=len(rows))
    PackageFile.objects.bulk_create([
        PackageFile(package=package, name=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                    content_enc=encrypt_bytes(data, aad=_aad(package.pk, name)))
        for name, data in files.items()])
    return package


def package_files(package: Package) -> dict[str, bytes]:
    files = {}
    for f in package.files.order_by("name"):
        data = decrypt_bytes(bytes(f.content_enc), aad=_aad(package.pk, f.name))
        if hashlib.sha256(data).hexdigest() != f.sha256:
            raise ScopeViolation(f"stored file {f.name} does not match its hash")
        files[f.name] = data
    return files


def zip_bytes(files: dict[str, bytes], *, sign: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    body = buf.getvalue()
    # Seal the archive bytes (headers, timestamps, directory) in the comment: a ZIP reader checks only
    # CRCs of file data; this makes any changed byte of the archive detectable.
    digest = hashlib.sha256(body[:-2]).hexdigest().encode()
    comment = ZIP_DIGEST_PREFIX + digest + (seal_signature(digest) if sign else b"")
    # The end-of-central-directory record ends with the 2-byte comment length.
    return body[:-2] + len(comment).to_bytes(2, "little") + comment


def package_zip(package: Package) -> bytes:
    return zip_bytes(package_files(package))


def _refuse_doctype(*_args) -> None:
    raise ValueError("a DOCTYPE or entity declaration")  # our XML has none; one would be an attack or damage


def _content_problem(name: str, data: bytes, record_count: int | None) -> str | None:
    """Open one file the way its reader will and say what is wrong with it (None: it opens)."""
    try:
        if name.endswith(".json"):
            json.loads(data.decode("utf-8"))
        elif name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            if not rows or rows[0] != CSV_HEADER:
                return f"{name}: the header row is not the one the package format names"
            if record_count is not None and len(rows) - 1 != record_count:
                return f"{name}: {len(rows) - 1} rows, the manifest says {record_count}"
        elif name.endswith(".xml"):
            parser = expat.ParserCreate()
            parser.StartDoctypeDeclHandler = _refuse_doctype
            parser.EntityDeclHandler = _refuse_doctype
            parser.Parse(data, True)
        else:
            return f"{name}: not a file type the package format has"
    except (ValueError, UnicodeDecodeError, csv.Error, expat.ExpatError) as exc:
        return f"{name}: cannot be opened ({type(exc).__name__})"
    return None


def package_output_problems(package: Package) -> list[str]:
    """The output check's own look at the package: every stored file is decrypted and matched to its
    hash, the sealed ZIP the authority gets is rebuilt and verified against its manifest, and each file is
    opened as its reader will (JSON, CSV with the format's header and the manifest's record count, XML
    without any DOCTYPE). Empty: the package can be handed over. Problems name files, never data."""
    problems: list[str] = []
    files: dict[str, bytes] = {}
    for f in package.files.order_by("name"):
        try:
            data = decrypt_bytes(bytes(f.content_enc), aad=_aad(package.pk, f.name))
        except Exception:  # noqa: BLE001 - a wrong key, a damaged or tampered ciphertext: one finding each
            problems.append(f"{f.name}: cannot be decrypted")
            continue
        if hashlib.sha256(data).hexdigest() != f.sha256:
            problems.append(f"{f.name}: content differs from its stored SHA-256")
            continue
        files[f.name] = data
    if not files or MANIFEST not in files:
        return problems + [f"{MANIFEST}: missing or unreadable"]
    if problems:
        return problems
    problems += verify_zip(zip_bytes(files))
    for name, data in sorted(files.items()):
        problem = _content_problem(name, data, package.record_count if name == "calls.csv" else None)
        if problem:
            problems.append(problem)
    return problems


def verify_zip(data: bytes, keys: dict | None = None) -> list[str]:
    """Problems found, each naming the file (empty: the package matches its manifest and carries a signature
    by one of `keys`, fingerprint -> Ed25519 public key; None: every key we ever signed with)."""
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return ["archive: not a readable ZIP file"]
    # The seal is the archive's last bytes: comment length (2 bytes) + "sha256:<64 hex>" + its signature.
    seal = zf.comment
    match = SEAL.fullmatch(seal)
    if match is None or not data.endswith(len(seal).to_bytes(2, "little") + seal):
        problems.append("archive: no valid seal in the ZIP comment")
    elif hashlib.sha256(data[:-len(seal) - 2]).hexdigest().encode() != match["digest"]:
        problems.append("archive: bytes differ from the sealed archive")
    else:
        problem = signature_problem(match, published_keys() if keys is None else keys)
        if problem:
            problems.append(problem)
    try:
        manifest = json.loads(zf.read(MANIFEST))
        listed = manifest["files"]
    except Exception:  # noqa: BLE001 - any damage to the manifest is one finding
        return problems + [f"{MANIFEST}: missing or unreadable"]
    names = set(zf.namelist()) - {MANIFEST}
    for name in sorted(names - set(listed)):
        problems.append(f"{name}: not listed in the manifest")
    for name, meta in sorted(listed.items()):
        try:
            content = zf.read(name)
        except KeyError:
            problems.append(f"{name}: listed in the manifest but missing")
            continue
        except Exception:  # noqa: BLE001 - CRC errors, broken compression
            problems.append(f"{name}: unreadable (damaged)")
            continue
        if hashlib.sha256(content).hexdigest() != meta.get("sha256") or len(content) != meta.get("size"):
            problems.append(f"{name}: SHA-256 differs from the manifest")
    if "calls.json" in listed and not any(p.startswith("calls.json") for p in problems):
        records = json.loads(zf.read("calls.json")).get("records", [])
        if len(records) != manifest.get("record_count"):
            problems.append("calls.json: record count differs from the manifest")
    return problems
