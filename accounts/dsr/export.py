"""The export of everything held about a person (GDPR art. 15 access, art. 20 portability).

A ZIP (export.json after the JSON Schema in schemas/, one CSV per registered section, categories.csv)
is written from the kernel's registry of sections, encrypted under its own data key and kept in
PRIVATE_FILES_DIR/exports for EXPORT_DAYS; the registered purger "dsr_export" deletes it after that.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import struct
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterable, Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext as _

from voipxs.exceptions import ApplicationError
from voipxs.privacy import crypto
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import PURPOSES, Purpose
from voipxs.privacy.registry import sections

from ..models import User
from .models import DataSubjectRequest, ExportDownload, ExportFile

EXPORT_DAYS = 7  # export files are deleted this long after they are ready (DESIGN.md retention table)
SCHEMA_ID = "https://voipxs.example/schemas/export.schema.json"
SCHEMA_VERSION = 1
EXPORT_NOT_READY = "This export is not ready."


def _export_dir() -> Path:
    path = Path(settings.PRIVATE_FILES_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


_FORMULA_CHARS = frozenset(("=", "+", "-", "@", "\t", "\r"))


def _csv_cell(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        # A spreadsheet must not run caller-ID text as a formula.
        return "'" + value if value and value[0] in _FORMULA_CHARS else value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is list or kind is dict:
        return _csv_cell(json.dumps(value, ensure_ascii=False, default=str))
    return value


def _csv_row(values: Iterable[Any]) -> list[Any]:
    # Called once per exported row (100,000 calls): the common cases inline, the rest via _csv_cell.
    out = []
    append = out.append
    for value in values:
        if type(value) is str:
            append("'" + value if value and value[0] in _FORMULA_CHARS else value)
        elif type(value) is int:
            append(value)
        else:
            append(_csv_cell(value))
    return out


def _section_header(section) -> dict:
    info = PURPOSES.get(Purpose(section.purpose)) if section.purpose in Purpose.values else None
    return {
        "name": section.name, "description": section.description, "purpose": section.purpose,
        "purpose_description": info.description if info else "",
        "legal_basis": section.legal_basis, "retention": section.retention,
    }


def _write_export_zip(user: User, target: Any) -> dict[str, int]:
    """Write the ZIP (export.json, one CSV per section, categories.csv) to the open binary file `target`.
    Rows are streamed: the JSON is written row by row and each CSV goes to a temp file alongside."""
    counts: dict[str, int] = {}
    encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf, \
            tempfile.TemporaryDirectory() as tmp:
        csv_paths: list[tuple[str, str]] = []
        headers: list[dict] = []
        with zf.open("export.json", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)
            head = {"$schema": SCHEMA_ID, "schema_version": SCHEMA_VERSION, "generated_at": tz_now().isoformat(),
                    "subject": {"account_id": user.pk}}
            out.write(encoder.encode(head)[:-1] + ', "sections": [')
            for i, section in enumerate(sections()):
                header = _section_header(section)
                headers.append(header)
                out.write(("," if i else "") + encoder.encode(header)[:-1] + ', "rows": [')
                csv_path = os.path.join(tmp, f"{section.name}.csv")
                n = 0
                with open(csv_path, "w", encoding="utf-8", newline="") as fh:
                    writer = None
                    for row in section.exporter(user):
                        if writer is None:
                            writer = csv.writer(fh)
                            columns = list(row.keys())
                            writer.writerow(columns)
                        writer.writerow(_csv_row(row.values()) if list(row) == columns else
                                        _csv_row(row.get(c) for c in columns))
                        out.write(("," if n else "") + encoder.encode(row))
                        n += 1
                csv_paths.append((f"{section.name}.csv", csv_path))
                counts[section.name] = n
                out.write(f'], "count": {n}}}')
            out.write("]}")
            out.flush()
            out.detach()
        for name, path in csv_paths:
            zf.write(path, name)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["section", "description", "purpose", "purpose_description", "legal_basis", "retention", "rows"])
        for header in headers:
            writer.writerow([_csv_cell(header[k]) for k in ("name", "description", "purpose", "purpose_description",
                                                             "legal_basis", "retention")] + [counts[header["name"]]])
        zf.writestr("categories.csv", buf.getvalue())
        zf.writestr("README.txt", _("Everything VoIPXS holds about you. export.json follows the JSON Schema %(schema)s; "
                                    "each section is also a CSV file; categories.csv says why we hold each category, "
                                    "on which legal basis and for how long.\n") % {"schema": SCHEMA_ID})
    return counts


# Encrypted file layout: MAGIC | u16 wrapped-key length | wrapped data key | chunks.
# A chunk: u32 length | nonce (12) | AES-GCM(ciphertext+tag); AAD = "<export id>:<index>:<last 0/1>",
# so chunks cannot be reordered, swapped between files, or the file truncated unnoticed.
_MAGIC = b"VXEXP1"
_CHUNK = 1 << 20


def _aad(export_id: int, index: int, last: bool) -> bytes:
    return f"{export_id}:{index}:{int(last)}".encode()


def _encrypt_file(plain_path: str, cipher_path: str, *, export_id: int) -> None:
    key = crypto.new_data_key()
    wrapped = crypto.wrap_data_key(key, label=f"export:{export_id}")
    aes = AESGCM(key)
    size = os.path.getsize(plain_path)
    with open(plain_path, "rb") as src, open(cipher_path, "wb") as dst:
        dst.write(_MAGIC + struct.pack(">H", len(wrapped)) + wrapped)
        index, done = 0, 0
        while True:
            chunk = src.read(_CHUNK)
            done += len(chunk)
            last = done >= size
            nonce = os.urandom(12)
            body = aes.encrypt(nonce, chunk, _aad(export_id, index, last))
            dst.write(struct.pack(">I", len(body)) + nonce + body)
            index += 1
            if last:
                break


def export_decrypt_stream(export: ExportFile) -> Iterator[bytes]:
    """The plaintext ZIP, chunk by chunk (1 MiB), for a streaming download."""
    path = _export_dir() / export.file_name
    with open(path, "rb") as fh:
        if fh.read(len(_MAGIC)) != _MAGIC:
            raise crypto.DecryptionError("not an export file")
        (klen,) = struct.unpack(">H", fh.read(2))
        aes = AESGCM(crypto.unwrap_data_key(fh.read(klen), label=f"export:{export.pk}"))
        index, finished = 0, False
        while not finished:
            head = fh.read(4)
            if len(head) < 4:
                raise crypto.DecryptionError("export file truncated")
            (blen,) = struct.unpack(">I", head)
            nonce, body = fh.read(12), fh.read(blen)
            try:
                plain = aes.decrypt(nonce, body, _aad(export.pk, index, False))
            except Exception:  # noqa: BLE001 - maybe the last chunk
                plain = aes.decrypt(nonce, body, _aad(export.pk, index, True))
                finished = True
            index += 1
            yield plain


def dsr_export_build(*, export_id: int) -> ExportFile:
    """Build, encrypt and store one export (idempotent: a ready export is left alone)."""
    export = ExportFile.objects.select_related("user", "request").get(pk=export_id)
    if export.status != ExportFile.Status.PENDING:
        return export
    directory = _export_dir()
    name = f"export-{export.pk}-{secrets.token_hex(8)}.zip.enc"
    fd, plain_path = tempfile.mkstemp(suffix=".zip", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            counts = _write_export_zip(export.user, fh)
        digest = hashlib.sha256()
        with open(plain_path, "rb") as fh:
            for block in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(block)
        size = os.path.getsize(plain_path)
        _encrypt_file(plain_path, str(directory / name), export_id=export.pk)
    except Exception as exc:
        ExportFile.objects.filter(pk=export.pk).update(status=ExportFile.Status.FAILED, error=type(exc).__name__[:200])
        audit_record(actor=None, action="dsr.export_failed", target_type="dsr", target_id=export.request_id)
        raise
    finally:
        if os.path.exists(plain_path):
            os.unlink(plain_path)
    return _export_mark_ready(export=export, name=name, size=size, sha256=digest.hexdigest(), counts=counts)


@transaction.atomic
def _export_mark_ready(*, export: ExportFile, name: str, size: int, sha256: str, counts: dict) -> ExportFile:
    stamp = tz_now()
    export.status, export.ready_at, export.expires_at = ExportFile.Status.READY, stamp, stamp + timedelta(days=EXPORT_DAYS)
    export.file_name, export.size, export.sha256, export.rows = name, size, sha256, counts
    export.save(update_fields=["status", "ready_at", "expires_at", "file_name", "size", "sha256", "rows"])
    req = DataSubjectRequest.objects.select_for_update().get(pk=export.request_id)
    if req.is_open:
        req.status, req.completed_at = DataSubjectRequest.Status.COMPLETED, stamp
        req.answer = _("Your data is ready to download until %(date)s.") % {"date": export.expires_at.date().isoformat()}
        req.outcome = {"rows": counts}
        req.save(update_fields=["status", "completed_at", "answer", "outcome"])
    audit_record(actor=None, action="dsr.export_ready", target_type="dsr", target_id=export.request_id, extra={"rows": counts})
    return export


@transaction.atomic
def dsr_export_download_log(*, export: ExportFile, actor: User) -> ExportDownload:
    if export.status != ExportFile.Status.READY:
        raise ApplicationError(EXPORT_NOT_READY)
    download = ExportDownload.objects.create(export=export)
    audit_record(actor=actor, action="dsr.export_download", target_type="dsr", target_id=export.request_id)
    return download


def export_file_delete(export: ExportFile) -> None:
    """Delete the file and mark the export deleted (the purge after EXPORT_DAYS; erasure at once)."""
    if export.file_name:
        try:
            (_export_dir() / export.file_name).unlink()
        except FileNotFoundError:
            pass
    export.status, export.deleted_at = ExportFile.Status.DELETED, tz_now()
    export.save(update_fields=["status", "deleted_at"])


def dsr_exports_purge(*, now=None, dry_run: bool = False) -> dict:  # noqa: A002 - the purger signature
    """Registered purger "dsr_export": delete export files 7 days after they were ready."""
    moment = now or tz_now()
    due = ExportFile.objects.filter(status__in=[ExportFile.Status.READY, ExportFile.Status.FAILED], expires_at__lte=moment)
    if dry_run:
        return {"deleted": due.count()}
    deleted = 0
    for export in due.iterator():
        with transaction.atomic():
            export_file_delete(export)
        deleted += 1
    if deleted:
        audit_record(actor=None, action="dsr.exports_purge", target_type="dsr_export", extra={"deleted": deleted})
    return {"deleted": deleted}
