"""The export of everything held about a person (GDPR art. 15 access, art. 20 portability).

A ZIP (export.json after the JSON Schema in schemas/, one CSV per registered section, categories.csv)
is written from the kernel's registry of sections, encrypted under its own data key and kept in
PRIVATE_FILES_DIR/exports for EXPORT_DAYS; the registered purger "dsr_export" deletes it after that.
Its build is a Celery task sent after the request commits; an export whose task never arrived (the
broker was down) is sent again by the reaper (`dsr_exports_requeue`, beat) or when the person asks
again (`dsr_export_retry`), and the build runs at most once at a time, however often it is sent.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import shutil
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterable, Iterator

from django.conf import settings
from django.db import transaction
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext as _, gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.mail import person_language
from voipxs.privacy import files
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import DSR_PURPOSE, PURPOSES, RETENTION_PURPOSE, Purpose
from voipxs.privacy.registry import sections
from voipxs.queue import enqueue_after_commit, resend_cutoff, tasks_resend

from ..models import User
from .export_stream import Background, TextOut, csv_cell, few_collections, section_write
from .models import DataSubjectRequest, ExportDownload, ExportFile

EXPORT_DAYS = 7  # export files are deleted this long after they are ready (DESIGN.md retention table)
SCHEMA_ID = "https://voipxs.example/schemas/export.schema.json"
SCHEMA_VERSION = 1
EXPORT_NOT_READY = gettext_noop("This export is not ready.")


def _export_dir() -> Path:
    path = Path(settings.PRIVATE_FILES_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _section_header(section) -> dict:
    info = PURPOSES.get(Purpose(section.purpose)) if section.purpose in Purpose.values else None
    return {
        "name": section.name, "description": section.description, "purpose": section.purpose,
        "purpose_description": info.description if info else "",
        "legal_basis": section.legal_basis, "retention": section.retention,
    }


class _Sink:
    """Bytes on their way into an encrypted file: counted and hashed as plain text, encrypted by `writer`
    (voipxs.privacy.files), so no plain byte reaches the disk, not even from a worker killed mid-write."""

    def __init__(self, writer: files.EncryptedFileWriter) -> None:
        self.writer, self.digest, self.size = writer, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.writer.write(bytes(data))

    def flush(self) -> None:
        """zipfile flushes; the writer seals chunks itself."""


def _section_csv_encrypted(path: str, rows: Iterable[dict], json_out: TextOut) -> int:
    """One section's rows: into the JSON (`json_out`) and into the CSV at `path`, encrypted under a
    throwaway key label (the CSV waits there until the JSON entry of the ZIP is closed). Returns the
    row count."""
    with open(path, "wb") as fh, files.EncryptedFileWriter(fh, key_label=path, aad_prefix=path) as cipher:
        return section_write(rows, json_out=json_out, csv_out=cipher.write)


def _write_export_zip(user: User, target: Any, *, build: str) -> dict[str, int]:
    """Write the ZIP (export.json, one CSV per section, categories.csv) to the binary sink `target`.
    Rows are streamed: the JSON is written batch by batch (compressed and encrypted in a thread of its
    own, `Background`) and each CSV goes to an encrypted temp file alongside, copied into the ZIP once
    the JSON is done."""
    counts: dict[str, int] = {}
    encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf, \
            tempfile.TemporaryDirectory(dir=_export_dir(), prefix=build) as tmp:
        csv_paths: list[tuple[str, str]] = []
        headers: list[dict] = []
        with zf.open("export.json", "w", force_zip64=True) as raw, Background(raw) as background:
            out = TextOut(background.write)
            head = {"$schema": SCHEMA_ID, "schema_version": SCHEMA_VERSION, "generated_at": tz_now().isoformat(),
                    "subject": {"account_id": user.pk}}
            out.write(encoder.encode(head)[:-1] + ', "sections": [')
            for i, section in enumerate(sections()):
                header = _section_header(section)
                headers.append(header)
                out.write(("," if i else "") + encoder.encode(header)[:-1] + ', "rows": [')
                csv_path = os.path.join(tmp, f"{section.name}.csv.enc")
                n = _section_csv_encrypted(csv_path, section.exporter(user), out)
                csv_paths.append((f"{section.name}.csv", csv_path))
                counts[section.name] = n
                out.write(f'], "count": {n}}}')
            out.write("]}")
            out.flush()
        for name, path in csv_paths:
            with zf.open(name, "w", force_zip64=True) as entry, Background(entry) as background:
                for chunk in files.decrypt_file(path, key_label=path, aad_prefix=path):
                    background.write(chunk)  # deflated while the next chunk is decrypted
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["section", "description", "purpose", "purpose_description", "legal_basis", "retention", "rows"])
        for header in headers:
            writer.writerow([csv_cell(header[k]) for k in ("name", "description", "purpose", "purpose_description",
                                                            "legal_basis", "retention")] + [counts[header["name"]]])
        zf.writestr("categories.csv", buf.getvalue())
        zf.writestr("README.txt", _("Everything VoIPXS holds about you. export.json follows the JSON Schema %(schema)s; "
                                    "each section is also a CSV file; categories.csv says why we hold each category, "
                                    "on which legal basis and for how long.\n") % {"schema": SCHEMA_ID})
    return counts


def _file_labels(export_id: int) -> dict[str, str]:
    """The export's file is encrypted by voipxs.privacy.files under a data key bound to the export."""
    return {"key_label": f"export:{export_id}", "aad_prefix": str(export_id)}


def export_decrypt_stream(export: ExportFile) -> Iterator[bytes]:
    """The plaintext ZIP, chunk by chunk (1 MiB), for a streaming download."""
    return files.decrypt_file(_export_dir() / export.file_name, **_file_labels(export.pk))


def dsr_export_build(*, export_id: int) -> ExportFile:
    """Build, encrypt and store one export. Idempotent, because its task may arrive twice (a redelivery,
    the reaper's send): the build holds the export's row lock from its check to `ready`, so another
    delivery finds the row locked (being built) or no longer pending (done) and leaves it alone. A
    worker that dies mid-build drops the lock with its connection: the export is pending again."""
    try:
        with transaction.atomic():
            export = (ExportFile.objects.select_for_update(skip_locked=True, of=("self",))
                      .select_related("user", "request").filter(pk=export_id).first())
            if export is None or export.status != ExportFile.Status.PENDING:
                return ExportFile.objects.get(pk=export_id)
            if export.request.status == DataSubjectRequest.Status.REJECTED:
                export_file_delete(export)  # refused before its build (art. 12(5)): the data is not handed over
                return export
            name, size, sha256, counts = _export_file_write(export)
            try:
                return _export_mark_ready(export=export, name=name, size=size, sha256=sha256, counts=counts)
            except Exception:
                (_export_dir() / name).unlink(missing_ok=True)
                raise
    except Exception as exc:
        failed = (ExportFile.objects.filter(pk=export_id, status=ExportFile.Status.PENDING)
                  .update(status=ExportFile.Status.FAILED, error=type(exc).__name__[:200]))
        if failed:
            request_id = ExportFile.objects.values_list("request_id", flat=True).get(pk=export_id)
            audit_record(actor=None, action="dsr.export_failed", purpose=Purpose.SELF_SERVICE, target_type="dsr",
                         target_id=request_id)
        raise


def _export_file_write(export: ExportFile) -> tuple[str, int, str, dict[str, int]]:
    """Write the ZIP and store it encrypted in PRIVATE_FILES_DIR/exports: (file name, size, SHA-256, counts)."""
    _build_leftovers_remove(export)
    name = f"export-{export.pk}-{secrets.token_hex(8)}.zip.enc"
    path = _export_dir() / name
    try:
        with open(path, "wb") as fh, files.EncryptedFileWriter(fh, **_file_labels(export.pk)) as writer, \
                few_collections():
            sink = _Sink(writer)
            counts = _write_export_zip(export.user, sink, build=f"build-{export.pk}-")
    except BaseException:
        path.unlink(missing_ok=True)  # unfinished ciphertext, unreadable anyway
        raise
    return name, sink.size, sink.digest.hexdigest(), counts


def _build_leftovers_remove(export: ExportFile) -> None:
    """What an earlier build of this export left when its worker was killed: its unfinished file and its
    temporary CSVs (ciphertext both). The caller holds the export's row lock, so no build is running."""
    directory = _export_dir()
    for path in (*directory.glob(f"export-{export.pk}-*.zip.enc"), *directory.glob(f"build-{export.pk}-*")):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name != export.file_name:
            path.unlink(missing_ok=True)


@transaction.atomic
def _export_mark_ready(*, export: ExportFile, name: str, size: int, sha256: str, counts: dict) -> ExportFile:
    req = DataSubjectRequest.objects.select_for_update().get(pk=export.request_id)
    if req.status == DataSubjectRequest.Status.REJECTED:  # refused while it was being built: not handed over
        (_export_dir() / name).unlink(missing_ok=True)
        export_file_delete(export)
        return export
    stamp = tz_now()
    export.status, export.ready_at, export.expires_at = ExportFile.Status.READY, stamp, stamp + timedelta(days=EXPORT_DAYS)
    export.file_name, export.size, export.sha256, export.rows = name, size, sha256, counts
    export.save(update_fields=["status", "ready_at", "expires_at", "file_name", "size", "sha256", "rows"])
    if req.is_open:
        req.status, req.completed_at = DataSubjectRequest.Status.COMPLETED, stamp
        # In the person's language (the build runs in a task); without the last day, which their page shows
        # beside the download link, in the language of the page.
        with person_language(export.user.language):
            req.answer = _("Your data is ready to download.")
        req.outcome = {"rows": counts}
        req.save(update_fields=["status", "completed_at", "answer", "outcome"])
    # The build read the person's own data for them (GDPR art. 15, 20): that purpose, as every read of calls has.
    # What a section left out on purpose (a disclosure under a secrecy order) is logged as a number per section,
    # here only: never in the export or the answer, which would tip the person off.
    withheld = {s.name: s.withheld(export.user) for s in sections() if s.withheld is not None}
    audit_record(actor=None, action="dsr.export_ready", purpose=Purpose.SELF_SERVICE, target_type="dsr",
                 target_id=export.request_id, extra={"rows": counts, "withheld": withheld})
    return export


# --- exports whose task never arrived: the reaper and the retry ---------------------------------------

def _export_idle(export_id: int) -> bool:
    """Still pending and not being built: no build holds its row lock (skip_locked passes over a locked
    row). The lock ends with the transaction, before the task is sent, so the build can take it."""
    with transaction.atomic():
        return (ExportFile.objects.select_for_update(skip_locked=True).filter(pk=export_id, status=ExportFile.Status.PENDING)
                .values_list("pk", flat=True).first()) is not None


def dsr_exports_requeue(*, at=None) -> list[int]:
    """Beat: send again the build of every export still pending TASK_RESEND_AFTER_SECONDS after it was
    asked for and not being built: the broker was down when the request was made (the request was
    stored and answered), or the task was lost with the broker. Stops at the first send the broker
    refuses (the next run tries again). Returns the ids sent (voipxs/queue.py)."""
    from ..tasks import dsr_export_build_task  # lazy: the services-to-tasks pair (tasks import this module)

    waiting = ExportFile.objects.filter(status=ExportFile.Status.PENDING, created_at__lt=resend_cutoff(at))
    return tasks_resend(dsr_export_build_task, [(pk,) for pk in waiting.order_by("pk").values_list("pk", flat=True)
                                                if _export_idle(pk)])


def dsr_export_stuck(*, request: DataSubjectRequest) -> ExportFile | None:
    """The export of the open access or portability `request` that asking again sends again (dsr_export_retry):
    failed, or pending past TASK_RESEND_AFTER_SECONDS and not being built. None when there is nothing to retry (the
    caller refuses). Writes nothing; its check of the build's row lock holds that lock to the caller's commit."""
    export = request.exports.order_by("-pk").first()
    if export is None or not request.is_open:
        return None
    if export.status == ExportFile.Status.FAILED or (
            export.status == ExportFile.Status.PENDING and export.created_at < resend_cutoff()
            and _export_idle(export.pk)):
        return export
    return None


def dsr_export_retry(*, request: DataSubjectRequest, export: ExportFile, actor: Any) -> None:
    """The person asks again while their access or portability request is open, or support asks again for them
    (dsr_request_create_for), and its export is stuck (`export`, from dsr_export_stuck): send it again, a failed
    one made anew. The entry's purpose fits the actor: the person's own asking is self-service, as the export's
    other entries; support acting on the person's request is the controller's duty to answer it, as the request's
    own entries (dsr.create, dsr.representative_on_open)."""
    if export.status == ExportFile.Status.FAILED:
        export = ExportFile.objects.create(request=request, user=request.user)
    on_behalf = getattr(actor, "pk", None) != request.user_id
    audit_record(actor=actor, action="dsr.export_retry", purpose=DSR_PURPOSE if on_behalf else Purpose.SELF_SERVICE,
                 target_type="dsr", target_id=request.pk,
                 extra={"export": export.pk, **({"on_behalf": True} if on_behalf else {})})
    from ..tasks import dsr_export_build_task  # lazy: the services-to-tasks pair (tasks import this module)

    enqueue_after_commit(dsr_export_build_task, export.pk)


@transaction.atomic
def dsr_export_download_log(*, export: ExportFile, actor: User) -> ExportDownload:
    """The download's own record (how often an export was fetched). Its audit entry is the access record of
    dsr_export_get_own, which every download reads the export through: one access, one entry for an auditor to
    count (a second entry here counted each download twice)."""
    if export.status != ExportFile.Status.READY:
        raise ApplicationError(EXPORT_NOT_READY)
    return ExportDownload.objects.create(export=export)


def export_file_delete(export: ExportFile) -> None:
    """Delete the file and mark the export deleted (the purge after EXPORT_DAYS; erasure at once)."""
    if export.file_name:
        try:
            (_export_dir() / export.file_name).unlink()
        except FileNotFoundError:
            pass
    export.status, export.deleted_at = ExportFile.Status.DELETED, tz_now()
    export.save(update_fields=["status", "deleted_at"])


def user_exports_delete(*, user_id: int) -> int:
    """Delete every export file of the person's when their account goes (erasure; the anonymisation of a closed
    account): nothing of theirs is handed over any more. Locked: a build in progress holds its export's row until the
    file is written and marked ready, so this waits for it and deletes that file too (read unlocked, the export was
    marked deleted and its file left); a build whose task comes later finds it deleted. How many."""
    exports = ExportFile.objects.select_for_update().filter(user_id=user_id).exclude(status=ExportFile.Status.DELETED)
    deleted = 0
    for export in exports.order_by("pk"):
        export_file_delete(export)
        deleted += 1
    return deleted


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
        audit_record(actor=None, action="dsr.exports_purge", purpose=RETENTION_PURPOSE, target_type="dsr_export",
                     extra={"deleted": deleted})
    return {"deleted": deleted}
