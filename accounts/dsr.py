"""Data-subject rights (GDPR art. 15-20): requests, the export, erasure and restriction.

Every write is a service here (one per transition, audited). The workflow walks the kernel's
registry of personal-data sections and asks its keepers what must stay, so it imports no higher app.
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

from django.conf import settings
from django.db import transaction
from django.utils.timezone import now
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voipxs.privacy import crypto
from voipxs.privacy.audit import audit_record
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import PURPOSES, Purpose
from voipxs.privacy.registry import Kept, kept_for, sections

from .models import User
from .models_dsr import EXTENSION_MONTHS, DataSubjectRequest, ExportDownload, ExportFile, ReminderStage, add_months
from .services import _personal_data_remove, _sign_in_end, numbers_kept

Kind = DataSubjectRequest.Kind
Status = DataSubjectRequest.Status

EXPORT_DAYS = 7  # export files are deleted this long after they are ready (DESIGN.md retention table)
SCHEMA_ID = "https://voipxs.example/schemas/export.schema.json"
SCHEMA_VERSION = 1

WRONG_PASSWORD = "The password is not correct."
ALREADY_OPEN = "You already have an open request of this kind."
NOT_OPEN = "This request is no longer open."
ALREADY_EXTENDED = "The deadline of this request was already extended once."
REASON_REQUIRED = "Give the reason the user will read."
ANSWER_REQUIRED = "Write the answer the user will read."
UNKNOWN_KIND = "Choose one of the request types."
EXPORT_NOT_READY = "This export is not ready."


# --- requests ---------------------------------------------------------------------------------------

@transaction.atomic
def dsr_request_create(*, user: User, kind: str, details: str = "", password: str | None = None) -> DataSubjectRequest:
    """A request made by the signed-in person. Erasure needs the password again (re-authentication)."""
    if kind not in Kind.values:
        raise ApplicationError(UNKNOWN_KIND, extra={"field": "kind"})
    if kind == Kind.ERASURE and not (password and user.check_password(password)):
        audit_record(actor=user, action="dsr.reauth_failed", target_type="user", target_id=user.pk)
        raise ApplicationError(WRONG_PASSWORD, extra={"field": "password"})
    if DataSubjectRequest.objects.filter(user=user, kind=kind, status__in=DataSubjectRequest.OPEN_STATUSES).exists():
        raise ApplicationError(ALREADY_OPEN, extra={"field": "kind"})
    received = now()
    req = DataSubjectRequest.objects.create(user=user, kind=kind, details=details.strip()[:4000], received_at=received,
                                            deadline=DataSubjectRequest.first_deadline(received))
    audit_record(actor=user, action="dsr.create", target_type="dsr", target_id=req.pk, extra={"kind": kind})
    if kind in (Kind.ACCESS, Kind.PORTABILITY):
        export = ExportFile.objects.create(request=req, user=user)
        req.status = Status.IN_PROGRESS
        req.save(update_fields=["status"])
        from .tasks import dsr_export_build_task

        transaction.on_commit(lambda: dsr_export_build_task.delay(export.pk))
    elif kind == Kind.ERASURE:
        # The person proved it is them a second ago: close the account now, so logins and tokens end at once.
        req = dsr_erasure_perform(request=req, actor=user)
    return req


def _lock_open(request: DataSubjectRequest) -> DataSubjectRequest:
    req = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if not req.is_open:
        raise ApplicationError(NOT_OPEN)
    return req


@transaction.atomic
def dsr_request_start(*, request: DataSubjectRequest, actor: Any) -> DataSubjectRequest:
    req = _lock_open(request)
    if req.status == Status.RECEIVED:
        req.status = Status.IN_PROGRESS
        req.save(update_fields=["status"])
        audit_record(actor=actor, action="dsr.start", target_type="dsr", target_id=req.pk)
    return req


@transaction.atomic
def dsr_request_extend(*, request: DataSubjectRequest, reason: str, actor: Any) -> DataSubjectRequest:
    """GDPR art. 12(3): once, by two further months, with a reason the user is told."""
    req = _lock_open(request)
    if req.extended_at is not None:
        raise ApplicationError(ALREADY_EXTENDED)
    if not reason.strip():
        raise ApplicationError(REASON_REQUIRED, extra={"field": "reason"})
    req.extended_at = now()
    req.extension_reason = reason.strip()[:2000]
    req.deadline = add_months(req.deadline, EXTENSION_MONTHS)
    req.reminder_stage = ReminderStage.NONE  # the new deadline gets its own "due soon" and "overdue" reminders
    req.save(update_fields=["extended_at", "extension_reason", "deadline", "reminder_stage"])
    audit_record(actor=actor, action="dsr.extend", target_type="dsr", target_id=req.pk)
    return req


@transaction.atomic
def dsr_request_complete(*, request: DataSubjectRequest, answer: str, actor: Any) -> DataSubjectRequest:
    """Rectification and restriction are completed by the DPO with an answer; restriction is applied here."""
    req = _lock_open(request)
    if not answer.strip():
        raise ApplicationError(ANSWER_REQUIRED, extra={"field": "answer"})
    if req.kind == Kind.RESTRICTION:
        req.outcome = dsr_restriction_apply(user=req.user, actor=actor)
    req.status, req.completed_at, req.answer = Status.COMPLETED, now(), answer.strip()[:8000]
    req.save(update_fields=["status", "completed_at", "answer", "outcome"])
    audit_record(actor=actor, action="dsr.complete", target_type="dsr", target_id=req.pk, extra={"kind": req.kind})
    return req


@transaction.atomic
def dsr_request_reject(*, request: DataSubjectRequest, answer: str, actor: Any) -> DataSubjectRequest:
    req = _lock_open(request)
    if not answer.strip():
        raise ApplicationError(ANSWER_REQUIRED, extra={"field": "answer"})
    req.status, req.completed_at, req.answer = Status.REJECTED, now(), answer.strip()[:8000]
    req.save(update_fields=["status", "completed_at", "answer"])
    audit_record(actor=actor, action="dsr.reject", target_type="dsr", target_id=req.pk)
    return req


# --- restriction (GDPR art. 18) -------------------------------------------------------------------------

def _restrict_everything(user: User, stamp) -> dict:
    # Through the sections' erasers would delete; restriction only marks. Sections expose no restrict
    # hook, so the models that carry `restricted_at` are marked through the app registry (no import).
    from django.apps import apps

    counts: dict[str, int] = {}
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        if "restricted_at" not in names or model is User:
            continue
        # A foreign key `account`/`user`, or a plain `account_id` (the hold table keeps ids, not keys).
        owner = next((f"{name}_id" for name in ("account", "user") if name in names or f"{name}_id" in names), None)
        if owner is None:
            continue
        counts[model._meta.label_lower] = (model.objects.filter(**{owner: user.pk, "restricted_at__isnull": True})
                                           .update(restricted_at=stamp))
    return counts


@transaction.atomic
def dsr_restriction_apply(*, user: User, actor: Any) -> dict:
    stamp = now()
    User.objects.filter(pk=user.pk).update(restricted_at=stamp)
    user.restricted_at = stamp
    counts = _restrict_everything(user, stamp)
    audit_record(actor=actor, action="dsr.restrict", target_type="user", target_id=user.pk, extra={"counts": counts})
    return {"restricted": counts}


@transaction.atomic
def dsr_restriction_lift(*, user: User, actor: Any) -> None:
    from django.apps import apps

    User.objects.filter(pk=user.pk).update(restricted_at=None)
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        if "restricted_at" in names and model is not User and "account" in names:
            model.objects.filter(account_id=user.pk).update(restricted_at=None)
    audit_record(actor=actor, action="dsr.restriction_lift", target_type="user", target_id=user.pk)


# --- erasure (GDPR art. 17) ---------------------------------------------------------------------------

def _kept_summary(kept: list[Kept], *, withheld: bool = False) -> list[dict]:
    """What the person is told was kept; with `withheld`, what is kept without telling them (a criminal
    investigation's hold), for the DPO's record only."""
    return [{"category": k.category, "reason": k.reason, "legal_basis": k.legal_basis,
             "until": k.until.isoformat() if k.until else None, "count": k.count}
            for k in kept if k.withheld_from_subject == withheld]


# Said in every erasure answer, whatever was kept: said only when an investigation's hold keeps data,
# it would itself tell the person about the investigation.
ERASURE_LEGAL_OBLIGATIONS = gettext_lazy("Where another legal obligation makes us keep data, it is restricted "
                                         "(used only for that obligation) and deleted when the obligation ends.")


def _erasure_answer(kept: list[Kept]) -> str:
    told = [k for k in kept if not k.withheld_from_subject]
    if not told:
        return "\n".join([_("Your account is closed and your data has been erased."), str(ERASURE_LEGAL_OBLIGATIONS)])
    lines = [_("Your account is closed and your profile and login data are erased. "
               "The law makes us keep the following; it is restricted (used only for that reason) until its deletion date:")]
    for k in told:
        until = k.until.isoformat() if k.until else _("until the reason ends")
        lines.append(f"- {k.category}: {k.reason} ({k.legal_basis}); {_('deleted')}: {until}")
    lines.append(str(ERASURE_LEGAL_OBLIGATIONS))
    return "\n".join(lines)


def _account_close(user: User, *, keep_numbers: bool, stamp) -> dict:
    """Erasure closes and anonymises at once: the two halves of account_close + account_anonymise."""
    counts = _sign_in_end(user, stamp=stamp)
    counts.update(_personal_data_remove(user, keep_numbers=keep_numbers, stamp=stamp))
    user.closed_at = user.closed_at or stamp
    user.save(update_fields=["closed_at"])
    return counts


@transaction.atomic
def dsr_erasure_perform(*, request: DataSubjectRequest, actor: Any) -> DataSubjectRequest:
    """Erase what may go, restrict what the law keeps (asking the registry's keepers), close the account."""
    req = _lock_open(request)
    user = User.objects.select_for_update().get(pk=req.user_id)
    kept = kept_for(user)
    stamp = now()
    counts: dict[str, dict] = {}
    for section in sections():
        if section.eraser is not None:
            counts[section.name] = section.eraser(user, kept)
    counts["account"] = _account_close(user, keep_numbers=numbers_kept(kept), stamp=stamp)
    for export in ExportFile.objects.filter(user=user).exclude(status=ExportFile.Status.DELETED):
        _export_delete(export)
    req.status, req.completed_at = Status.COMPLETED, stamp
    req.outcome = {"counts": counts, "kept": _kept_summary(kept), "kept_withheld": _kept_summary(kept, withheld=True)}
    req.answer = _erasure_answer(kept)
    req.save(update_fields=["status", "completed_at", "outcome", "answer"])
    audit_record(actor=actor, action="dsr.erase", target_type="user", target_id=user.pk,
                 extra={"request": req.pk, "kept": [k.category for k in kept]})
    return req


# --- export (GDPR art. 15 and 20) ------------------------------------------------------------------------

def _export_dir() -> Path:
    path = Path(settings.PRIVATE_FILES_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset(_FORMULA_START)


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
            head = {"$schema": SCHEMA_ID, "schema_version": SCHEMA_VERSION, "generated_at": now().isoformat(),
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
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
    stamp = now()
    export.status, export.ready_at, export.expires_at = ExportFile.Status.READY, stamp, stamp + timedelta(days=EXPORT_DAYS)
    export.file_name, export.size, export.sha256, export.rows = name, size, sha256, counts
    export.save(update_fields=["status", "ready_at", "expires_at", "file_name", "size", "sha256", "rows"])
    req = DataSubjectRequest.objects.select_for_update().get(pk=export.request_id)
    if req.is_open:
        req.status, req.completed_at = Status.COMPLETED, stamp
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


def _export_delete(export: ExportFile) -> None:
    if export.file_name:
        try:
            (_export_dir() / export.file_name).unlink()
        except FileNotFoundError:
            pass
    export.status, export.deleted_at = ExportFile.Status.DELETED, now()
    export.save(update_fields=["status", "deleted_at"])


def dsr_exports_purge(*, now=None, dry_run: bool = False) -> dict:  # noqa: A002 - the purger signature
    """Registered purger "dsr_export": delete export files 7 days after they were ready."""
    from django.utils.timezone import now as tz_now

    moment = now or tz_now()
    due = ExportFile.objects.filter(status__in=[ExportFile.Status.READY, ExportFile.Status.FAILED], expires_at__lte=moment)
    if dry_run:
        return {"deleted": due.count()}
    deleted = 0
    for export in due.iterator():
        with transaction.atomic():
            _export_delete(export)
        deleted += 1
    if deleted:
        audit_record(actor=None, action="dsr.exports_purge", target_type="dsr_export", extra={"deleted": deleted})
    return {"deleted": deleted}


# --- the "requests" section: requests a person made, in their own export -------------------------------

def export_requests(user: Any) -> Iterable[dict]:
    for req in DataSubjectRequest.objects.filter(user_id=user.pk).order_by("received_at"):
        yield {"id": req.pk, "kind": req.kind, "status": req.status, "received_at": req.received_at.isoformat(),
               "deadline": req.deadline.isoformat(), "extension_reason": req.extension_reason,
               "completed_at": req.completed_at.isoformat() if req.completed_at else None, "answer": req.answer}
