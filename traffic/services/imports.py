"""CDR file imports. An upload is stored under PRIVATE_FILES_DIR/imports/<uuid> and queued; the Celery
task claims and runs it (`cdr_import_run`); `cdr_bulk_import` runs a file in-process (the import_cdrs
command). Rows are committed per batch by the ingest pipeline (`traffic.ingest`), so a failed or
reaped import keeps what landed and a re-run (`cdr_import_rerun`) completes it: rows already stored
are skipped as duplicates. Beat reaps imports whose worker died (`cdr_imports_reap`), sends again the
task of uploads queued while the broker was down (`cdr_imports_requeue`), and the purge deletes stored
uploads that nothing will read any more (`cdr_import_uploads_delete`)."""
from __future__ import annotations

import logging
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import IO, Callable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_noop
from kombu.exceptions import OperationalError

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import RETENTION_PURPOSE, Purpose

from ..importers.base import ImportFormatError
from ..ingest.parallel import PreparerStopped
from ..ingest.run import ImportAbandoned, cdr_import_rows_delete, run_import
from ..ingest.spool import file_sha256, spool_stream
from ..models import CdrImport, Source
from ..selectors.sources_imports import ingest_purpose

logger = logging.getLogger(__name__)

IMPORT_FILE_EMPTY = gettext_noop("The file is empty.")
IMPORT_NOT_RERUNNABLE = gettext_noop("Only a failed import can be run again.")
IMPORT_FILE_GONE = gettext_noop("The stored file of this import is gone; upload the file again (rows that landed are "
                                "skipped).")
IMPORT_REAPED = ("The worker stopped mid-run; re-run to finish: rows already landed are skipped as duplicates.")
# Not a row's fault (a row the database refuses is rejected alone, traffic.ingest): the database went
# away, a bug. A re-run completes the file only once that cause is gone, so the message says so.
IMPORT_INTERNAL_ERROR = ("The import stopped on an internal error (logged for the operators), not on a row of "
                         "the file; rows of finished batches were kept. Re-run it once the cause is fixed: "
                         "rows already stored are skipped as duplicates.")
IMPORT_PREPARER_STOPPED = ("A process preparing the file's rows stopped (killed, or out of memory); rows of finished "
                           "batches were kept. Re-run the import: rows already stored are skipped as duplicates.")
IMPORT_UPLOAD_EXPIRED = ("The stored file was deleted under the retention policy before it was imported "
                         "(raw CDR files carry technical identifiers, kept 30 days); upload it again to import it.")


def imports_dir() -> Path:
    path = Path(settings.PRIVATE_FILES_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@transaction.atomic
def cdr_import_upload(*, source: Source, upload: IO[bytes], file_name: str, actor=None) -> CdrImport:
    """Save an uploaded file under PRIVATE_FILES_DIR/imports/<uuid> and queue its import.

    Only the CdrImport id goes to the task; the file is deleted after the import."""
    path, sha = spool_stream(upload, imports_dir())
    if path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        raise ApplicationError(IMPORT_FILE_EMPTY, {"field": "file"})
    target = path.with_name(str(uuid.uuid4()))
    path.rename(target)
    cdr_import = CdrImport.objects.create(
        source=source, file_name=os.path.basename(file_name)[:255], file_sha256=sha,
        imported_by=actor if getattr(actor, "pk", None) else None,
        report={"upload": target.name},
    )
    audit_record(actor=actor, action="cdr_import.upload", purpose=ingest_purpose(actor), target_type="cdr_import",
                 target_id=cdr_import.pk, extra={"source": source.pk})
    from ..tasks import cdr_import_run

    # robust: with the broker down the upload is still recorded (queued) and the page answers;
    # `cdr_import_run` can be queued again later, and only one run ever claims the import.
    transaction.on_commit(lambda: cdr_import_run.delay(cdr_import.pk), robust=True)
    return cdr_import


def cdr_import_run(*, cdr_import: CdrImport) -> CdrImport:
    """Run a queued upload (the Celery task calls this). Idempotent: an import that is running or
    finished is left alone; rows are deduplicated anyway, so running a file twice could not double it."""
    # Claim it: of two deliveries of the same task only one moves it out of "queued", and its lease starts.
    claimed = CdrImport.objects.filter(pk=cdr_import.pk, status=CdrImport.Status.QUEUED).update(
        status=CdrImport.Status.RUNNING, heartbeat_at=now())
    cdr_import = CdrImport.objects.select_related("source").get(pk=cdr_import.pk)
    if not claimed:
        return cdr_import
    name = cdr_import.upload_name
    path = imports_dir() / os.path.basename(name) if name else None
    if path is None or not path.exists():
        return cdr_import_fail(cdr_import, "The uploaded file is no longer there.")
    try:
        return _import_execute(cdr_import=cdr_import, path=path)
    finally:
        _upload_release(path)


def _upload_release(path: Path) -> None:
    """Delete a stored upload once no import holds it: kept while a failed import can be re-run
    (or its re-run has taken it over), gone once the file is imported or refused."""
    if not CdrImport.objects.filter(report__upload=path.name).exists():
        path.unlink(missing_ok=True)


def cdr_bulk_import(*, source: Source, stream: IO[bytes] | None = None, path: str | Path | None = None,
                    actor=None, file_name: str = "", batch_size: int | None = None,
                    progress: Callable[[int], None] | None = None) -> CdrImport:
    """Import one file of CDRs end to end (parse, normalise, rate, encrypt, store) and record it.

    Not one transaction: rows are committed per batch (see traffic/ingest/run.py), so the import of a
    large file does not hold one enormous transaction and a re-run completes an interrupted one."""
    if (stream is None) == (path is None):
        raise ValueError("give exactly one of stream and path")
    spooled = None
    if stream is not None:
        spooled, sha = spool_stream(stream)
        path = spooled
    else:
        path = Path(path)
        sha = file_sha256(path)
    try:
        cdr_import = CdrImport.objects.create(
            source=source, file_name=os.path.basename(file_name or str(path))[:255], file_sha256=sha,
            imported_by=actor if getattr(actor, "pk", None) else None,
        )
        return _import_execute(cdr_import=cdr_import, path=path, batch_size=batch_size, progress=progress,
                               actor=actor)
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)


def _import_execute(*, cdr_import: CdrImport, path: Path, batch_size: int | None = None,
                    progress: Callable[[int], None] | None = None, actor=None) -> CdrImport:
    cdr_import.status = CdrImport.Status.RUNNING
    cdr_import.heartbeat_at = now()
    cdr_import.save(update_fields=["status", "heartbeat_at"])
    try:
        totals = run_import(cdr_import=cdr_import, path=path, batch_size=batch_size, progress=progress)
    except ImportAbandoned:
        # Reaped while this worker was stalled past its lease: the reaper's verdict stands (the batch
        # in flight was rolled back), and a re-run may already own the file.
        logger.warning("cdr import %s was reaped while still running; stopped", cdr_import.pk)
        return CdrImport.objects.select_related("source").get(pk=cdr_import.pk)
    except ImportFormatError as exc:
        cdr_import_rows_delete(import_id=cdr_import.pk)
        return cdr_import_fail(cdr_import, str(exc), actor=actor)
    except PreparerStopped:
        logger.error("cdr import %s stopped: a preparing process died", cdr_import.pk)
        cdr_import_fail(cdr_import, IMPORT_PREPARER_STOPPED, actor=actor, keep_upload=True)
        raise
    except Exception:
        logger.exception("cdr import %s stopped", cdr_import.pk)  # ids only; no row content in our exceptions
        cdr_import_fail(cdr_import, IMPORT_INTERNAL_ERROR, actor=actor, keep_upload=True)
        raise
    finished = CdrImport.objects.filter(pk=cdr_import.pk, status=CdrImport.Status.RUNNING).update(
        status=CdrImport.Status.DONE, finished_at=now(), imported=totals.imported, duplicates=totals.duplicates,
        conflicts=totals.conflicts, flagged=totals.flagged, report=totals.report())
    cdr_import.refresh_from_db()
    if not finished:  # reaped between its last batch and here: the counts are already on it
        return cdr_import
    by = actor or cdr_import.imported_by
    audit_record(actor=by, action="cdr_import.done", purpose=ingest_purpose(by),
                 target_type="cdr_import", target_id=cdr_import.pk,
                 extra={"imported": totals.imported, "duplicates": totals.duplicates, "conflicts": totals.conflicts,
                        "rejected": totals.rejected_total, "flagged": totals.flagged})
    logger.info("cdr import %s done: imported=%s duplicates=%s conflicts=%s rejected=%s", cdr_import.pk,
                totals.imported, totals.duplicates, totals.conflicts, totals.rejected_total)
    return cdr_import


def cdr_import_fail(cdr_import: CdrImport, message: str, *, actor=None, keep_upload: bool = False,
                    purpose: str | None = None) -> CdrImport:
    """Mark an import failed. `keep_upload`: the stored file stays so that staff can re-run it. `purpose`: the
    one its audit entry records: by default its start entry's (`ingest_purpose` of who started it: billing, or
    security for network operations), unless the failure is another duty's doing (the retention purge's)."""
    cdr_import.status = CdrImport.Status.FAILED
    cdr_import.finished_at = now()
    cdr_import.error = message[:2000]
    report = dict(cdr_import.report or {})
    if not keep_upload:
        report.pop("upload", None)
    cdr_import.report = report
    cdr_import.save(update_fields=["status", "finished_at", "error", "report"])
    by = actor or cdr_import.imported_by
    audit_record(actor=by, action="cdr_import.failed", purpose=ingest_purpose(by) if purpose is None else purpose,
                 target_type="cdr_import", target_id=cdr_import.pk)
    return cdr_import


def cdr_import_lease() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "CDR_IMPORT_LEASE_SECONDS", 600)))


def cdr_imports_reap(*, at=None) -> list[int]:
    """Mark failed every running import whose lease ran out: its worker died (OOM, kill -9, deploy, the
    hard time limit) and nothing else would ever finish it. A live import renews its lease with every
    batch, however slow the file, so it is never reaped; if a stalled worker wakes up after all, its
    next heartbeat finds the import failed and it stops (ingest.run.ImportAbandoned). Returns the ids."""
    at = at or now()
    cutoff = at - cdr_import_lease()
    candidates = list(CdrImport.objects.filter(_stale(cutoff), status=CdrImport.Status.RUNNING)
                      .values_list("pk", flat=True).order_by("pk"))
    return [pk for pk in candidates if _cdr_import_reap_one(pk=pk, cutoff=cutoff, at=at)]


def cdr_imports_requeue(*, at=None) -> list[int]:
    """Send again the task of every import still queued after a lease: the broker was down when it was
    uploaded (the upload is kept, the page answered) and nothing else would ever start it. Sending twice
    is harmless: only one run claims an import. Stops at the first send that fails (the broker is still
    down; the next beat tries again). Returns the ids sent."""
    from ..tasks import cdr_import_run

    cutoff = (at or now()) - cdr_import_lease()
    sent = []
    for pk in CdrImport.objects.filter(status=CdrImport.Status.QUEUED, created_at__lt=cutoff).order_by("pk") \
            .values_list("pk", flat=True):
        try:
            cdr_import_run.delay(pk)
        except OperationalError:
            logger.warning("import re-queue stopped: the broker is unreachable")
            break
        sent.append(pk)
    return sent


def _stale(cutoff) -> Q:
    # An import that has no heartbeat at all was started by code older than the lease: its age counts.
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)


@transaction.atomic
def _cdr_import_reap_one(*, pk: int, cutoff, at) -> bool:
    # The row lock orders this against the import's own heartbeat: a heartbeat that commits first
    # makes the import fresh again (re-checked here); one that comes after finds it failed.
    cdr_import = (CdrImport.objects.select_for_update()
                  .filter(_stale(cutoff), pk=pk, status=CdrImport.Status.RUNNING).first())
    if cdr_import is None:
        return False
    silent = int((at - (cdr_import.heartbeat_at or cdr_import.created_at)).total_seconds())
    name = cdr_import.upload_name
    kept = bool(name) and (imports_dir() / os.path.basename(name)).exists()
    cdr_import_fail(cdr_import, IMPORT_REAPED, keep_upload=kept)
    audit_record(actor=None, action="cdr_import.reaped", purpose=ingest_purpose(cdr_import.imported_by),
                 target_type="cdr_import", target_id=pk,
                 extra={"silent_seconds": silent, "landed": cdr_import.imported,
                        "rerunnable": bool(cdr_import.upload_name)})
    logger.warning("cdr import %s reaped: no heartbeat for %ss, %s rows had landed", pk, silent, cdr_import.imported)
    return True


@transaction.atomic
def cdr_import_rerun(*, cdr_import: CdrImport, actor=None) -> CdrImport:
    """Import a failed import's stored file again, as a new import (`rerun_of` the failed one).

    Rows the failed attempt landed stay attributed to it and count as this run's duplicates, so each
    report says exactly what its run did; the file moves to the new import and is deleted once that
    one is done. Only the new import's id goes to the task."""
    failed = CdrImport.objects.select_for_update().select_related("source").get(pk=cdr_import.pk)
    if failed.status != CdrImport.Status.FAILED:
        raise ApplicationError(IMPORT_NOT_RERUNNABLE)
    name = os.path.basename(failed.upload_name)
    if not name or not (imports_dir() / name).exists():
        raise ApplicationError(IMPORT_FILE_GONE)
    rerun = CdrImport.objects.create(
        source=failed.source, file_name=failed.file_name, file_sha256=failed.file_sha256,
        imported_by=actor if getattr(actor, "pk", None) else failed.imported_by, rerun_of=failed,
        report={"upload": name},
    )
    failed.report = {k: v for k, v in (failed.report or {}).items() if k != "upload"}
    failed.save(update_fields=["report"])
    audit_record(actor=actor, action="cdr_import.rerun", purpose=ingest_purpose(actor), target_type="cdr_import",
                 target_id=rerun.pk, extra={"rerun_of": failed.pk, "source": failed.source_id})
    from ..tasks import cdr_import_run

    transaction.on_commit(lambda: cdr_import_run.delay(rerun.pk), robust=True)
    return rerun


def cdr_import_uploads_delete(*, before, dry_run: bool = False, actor=None) -> int:
    """Delete stored uploads that no import will read any more: those of failed imports (kept so
    that staff could re-run them) and of imports still queued (the broker was down), made before
    `before`. A raw CDR file holds the technical identifiers that retention keeps for the cdr_technical
    period only, so the purge passes that cutoff. Queued imports whose file goes are marked failed
    with the reason. One import per transaction; returns how many files went."""
    stale = (CdrImport.objects.filter(created_at__lt=before, report__has_key="upload",
                                      status__in=[CdrImport.Status.FAILED, CdrImport.Status.QUEUED])
             .order_by("id"))
    if dry_run:
        return stale.count()
    deleted = 0
    for pk in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            cdr_import = CdrImport.objects.select_for_update().filter(
                pk=pk, status__in=[CdrImport.Status.FAILED, CdrImport.Status.QUEUED]).first()
            name = os.path.basename(cdr_import.upload_name) if cdr_import else ""
            if not name:
                continue  # re-run or claimed meanwhile
            if cdr_import.status == CdrImport.Status.QUEUED:
                # drops the upload from the report
                cdr_import_fail(cdr_import, IMPORT_UPLOAD_EXPIRED, actor=actor, purpose=RETENTION_PURPOSE)
            else:
                cdr_import.report = {k: v for k, v in cdr_import.report.items() if k != "upload"}
                cdr_import.error = f"{cdr_import.error}\n{IMPORT_UPLOAD_EXPIRED}".strip()[:2000]
                cdr_import.save(update_fields=["report", "error"])
            audit_record(actor=actor, action="cdr_import.upload_deleted", purpose=RETENTION_PURPOSE,
                         target_type="cdr_import", target_id=cdr_import.pk)
            path = imports_dir() / name
            transaction.on_commit(lambda path=path: _upload_release(path))
            deleted += 1
    return deleted
