"""The package of an approved request: built by the Celery task that `transitions.disclosure_production_start`
queues (the rows come from the approved scope only, see production.py), sent back for a retry when the
build fails, sent again by the reaper when its task never arrived (`disclosure_productions_requeue`,
beat), and downloaded by an officer once the output is checked, every download logged.

What is handed out (LEGAL.md section 5, row 19): for an authority with a certificate on file, the sealed ZIP
encrypted to it, a CMS EnvelopedData `.p7m` (envelope.py), made once per certificate and ZIP and stored, so that
every download and the delivery receipt name the same file; for one without, the ZIP itself, which is delivered
only on a channel that is itself encrypted, recorded by the officer (transitions.disclosure_request_deliver).
An expired certificate stops both until it is replaced.

The ZIP is rebuilt for every download in a temporary file (production.package_zip_open), which the download hands
to a streaming response. An envelope is made from that file a chunk at a time as it goes into the database, and is
copied back out a slice at a time into a temporary file of its own (stored.py), which the response streams:
neither is ever in memory whole. Both files are made in the download's transaction, as its record is written; the
response is sent after that transaction has ended, so that what retention or anything else changes in the
database meanwhile cannot cut or change the file the record names."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.db import transaction
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.timezone import localtime, now as tz_now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import SystemActor
from voipxs.queue import resend_cutoff, tasks_resend

from ..envelope import CONTENT_TYPE as P7M_CONTENT_TYPE
from ..envelope import SUFFIX as P7M_SUFFIX
from ..envelope import envelope_chunks
from ..models import Authority, DisclosureRequest, Package, PackageDownload, PackageEnvelope, Status
from ..production import build_package, package_spooled, package_zip_open
from ..rendering import max_hits_counts
from ..selectors import request_purpose
from ..stored import stored_envelope_copy, stored_envelope_create, stored_package_lock
from .checks import WRONG_STATE, request_audit, request_locked, request_move, require_officer, require_state

CERTIFICATE_EXPIRED_ON = gettext_noop("The authority's certificate expired on %(date)s: nothing is handed over "
                                      "encrypted to it. Ask the authority for its current certificate and replace "
                                      "it in the register of authorities.")
ZIP_CONTENT_TYPE = "application/zip"


@dataclass(frozen=True)
class DeliveryFile:
    """The file handed to the authority: `file` under `name`, and what the receipt says of it. `file` is open at
    its start, a temporary file (the ZIP, or the stored envelope copied out of the database); whoever takes it
    closes it (a FileResponse does), which deletes it."""

    name: str
    file: IO[bytes]
    sha256: str  # of the file's content
    zip_sha256: str  # of the sealed ZIP (the same as sha256 where it is not encrypted)
    encrypted_to: str  # the certificate's SHA-256; "": the plain ZIP


def package_content_type(name: str) -> str:
    """The media type of a file package_delivery_file named."""
    return P7M_CONTENT_TYPE if name.endswith(P7M_SUFFIX) else ZIP_CONTENT_TYPE


def certificate_refusal(authority: Authority) -> None:
    """Refuse while the authority's certificate has expired: nothing goes out encrypted to it, nor in plain."""
    if authority.certificate and authority.certificate_expired:
        # Written out in the language the refusal is shown in (the month's name), English in the message.
        params = {"date": lazy(date_format, str)(localtime(authority.certificate_not_after), "DATE_FORMAT")}
        raise ApplicationError.formatted(CERTIFICATE_EXPIRED_ON, params, field="certificate")


def _sealed_for(req: DisclosureRequest, package: Package) -> tuple[IO[bytes], str, PackageEnvelope | None]:
    """The sealed ZIP (open at its start) and its SHA-256, and, where the authority of `req` has a certificate, the
    envelope encrypted to it (made once from that ZIP, then as stored; without its content). Refused while the
    certificate has expired. The caller closes the ZIP, which deletes it."""
    authority = req.authority
    certificate_refusal(authority)
    zip_file, zip_digest = package_zip_open(package)
    if not authority.certificate:
        return zip_file, zip_digest, None
    try:
        envelope = (PackageEnvelope.objects.defer("content").filter(
            package=package, recipient_sha256=authority.certificate_sha256, zip_sha256=zip_digest).first())
        if envelope is None:
            size = zip_file.seek(0, io.SEEK_END)
            zip_file.seek(0)
            envelope = stored_envelope_create(package=package, recipient_sha256=authority.certificate_sha256,
                                              zip_sha256=zip_digest,
                                              pieces=envelope_chunks(zip_file, size, authority.certificate))
    except BaseException:
        zip_file.close()
        raise
    zip_file.seek(0)
    return zip_file, zip_digest, envelope


def package_delivery_file(*, req: DisclosureRequest, package: Package) -> DeliveryFile:
    """What the authority of `req` (locked by the caller) gets: the sealed ZIP encrypted to its certificate, the
    envelope made once and then handed out as stored (copied out and checked against its SHA-256,
    stored_envelope_copy); or, without a certificate, the ZIP. Refused while its certificate has expired."""
    zip_file, zip_digest, envelope = _sealed_for(req, package)
    name = f"disclosure-{req.pk}.zip"
    if envelope is None:
        return DeliveryFile(name=name, file=zip_file, sha256=zip_digest, zip_sha256=zip_digest, encrypted_to="")
    zip_file.close()
    envelope_file, _none = package_spooled(lambda fh: stored_envelope_copy(envelope, fh))
    return DeliveryFile(name=name + P7M_SUFFIX, file=envelope_file, sha256=envelope.sha256,
                        zip_sha256=zip_digest, encrypted_to=envelope.recipient_sha256)


def package_delivery_digests(*, req: DisclosureRequest, package: Package) -> tuple[str, str]:
    """What the delivery record names of the file handed over (its SHA-256, and the certificate's SHA-256 or ""),
    as package_delivery_file would hand it out, without copying the envelope out of the database: the record
    needs the stored envelope's SHA-256 only (each download copies it out and checks the content against that)."""
    zip_file, zip_digest, envelope = _sealed_for(req, package)
    zip_file.close()
    return (zip_digest, "") if envelope is None else (envelope.sha256, envelope.recipient_sha256)


@transaction.atomic
def disclosure_package_build(*, request_id: int, actor) -> Package | None:
    """Build and seal the package (production.py); the request moves to PRODUCED. A row outside the
    approved scope raises ScopeViolation and nothing is stored.

    Idempotent, because its task may arrive twice (a redelivery, the reaper's send): the build holds the
    request's row lock from its check to PRODUCED, so another delivery finds the row locked (being built)
    or no longer producing (done, or failed back to approved) and answers None without doing anything."""
    req = (DisclosureRequest.objects.select_for_update(skip_locked=True, of=("self",)).select_related("authority")
           .filter(pk=request_id, status=Status.PRODUCING).first())
    if req is None:
        return None
    package = build_package(request=req, actor=actor)
    req.produced_at = tz_now()
    request_move(req=req, status=Status.PRODUCED, fields=["produced_at"])
    # Counts only: how many matched (calls, subscribers), how many went in, the cap.
    request_audit(actor=actor, action="produce", req=req, package=package.pk, records=package.record_count,
                  subscribers=package.manifest.get("subscriber_count"),
                  **max_hits_counts(package.manifest, package.record_count), max_hits=req.max_hits)
    return package


def package_unchecked_discard(*, req: DisclosureRequest) -> int | None:
    """Delete the package of `req` (locked by the caller, produced, its output not checked) so that it is built anew
    from the approved scope, as a refused output check says: it never left the house (downloads and the delivery
    come after the check). Its id, or None. The stored files' locks first, as retention takes them (stored.py)."""
    package = Package.objects.filter(request=req).first()
    if package is None:
        return None
    pk = package.pk
    stored_package_lock(pk)
    package.delete()  # its files with it; envelopes and downloads are made after the check, so there are none
    return pk


def _production_idle(request_id: int) -> bool:
    """Still producing and not being built: no build holds its row lock (skip_locked passes over a
    locked row). The lock ends with the transaction, before the task is sent, so the build can take it."""
    with transaction.atomic():
        return (DisclosureRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=request_id, status=Status.PRODUCING).values_list("pk", flat=True).first()) is not None


def disclosure_productions_requeue(*, at: datetime | None = None) -> list[int]:
    """Beat: send again the package build of every request still producing TASK_RESEND_AFTER_SECONDS
    after its production started and not being built: the broker was down when the officer started it
    (the step was stored and answered), or the task was lost with the broker. Stops at the first send
    the broker refuses (the next run tries again). Returns the request ids sent (voipxs/queue.py)."""
    from ..tasks import disclosure_package_build_task  # lazy: the services-to-tasks pair (tasks import this module)

    cutoff = resend_cutoff(at)
    # A request left producing by code older than production_started_at has no start time: it is old.
    waiting = (DisclosureRequest.objects.filter(status=Status.PRODUCING, production_started_by__isnull=False)
               .filter(Q(production_started_at__lt=cutoff) | Q(production_started_at__isnull=True)).order_by("pk")
               .values_list("pk", "production_started_by_id"))
    return tasks_resend(disclosure_package_build_task, [ids for ids in waiting if _production_idle(ids[0])])


# Stored as the production's error (the page shows it in the officer's language) and audited: a build runs as the
# officer who started it, and one whose account row is gone can never run.
STARTER_GONE = gettext_noop("The officer who started the production no longer has an account: start the production "
                            "again.")
PRODUCTION_ACTOR = SystemActor("disclosure_production")


@transaction.atomic
def disclosure_production_starter_gone(*, request_id: int) -> bool:
    """The build of `request_id` was sent with an officer whose account row no longer exists: mark the production
    failed (back to APPROVED, the reason on the request's page, audited), so the reaper stops sending it. False if
    it is no longer producing (built, or failed already by another delivery)."""
    if not DisclosureRequest.objects.select_for_update().filter(pk=request_id, status=Status.PRODUCING).exists():
        return False
    disclosure_production_failed(request_id=request_id, actor=PRODUCTION_ACTOR, error=STARTER_GONE)
    return True


@transaction.atomic
def disclosure_production_failed(*, request_id: int, actor, error: str) -> DisclosureRequest:
    """Back to APPROVED with the reason (a class name, never data), so the officers can look and retry."""
    req = DisclosureRequest.objects.select_for_update().get(pk=request_id)
    require_state(req, Status.PRODUCING)
    req.production_error = error[:300]
    request_move(req=req, status=Status.APPROVED, fields=["production_error"])
    # The failed production read the scope's calls under the request's purpose, and its own access record went
    # with the rolled-back transaction: this entry keeps the read on the record, with that purpose (LEGAL.md row 21).
    request_audit(actor=actor, action="production_failed", req=req, purpose=request_purpose(req), error=error[:100])
    return req


@transaction.atomic
def disclosure_package_download(*, actor, request: DisclosureRequest) -> tuple[str, IO[bytes]]:
    """The package as the authority gets it (package_delivery_file: a .p7m encrypted to its certificate, or the
    ZIP where it has none), logged per download with the file's SHA-256 and the certificate's. Only after the
    output check. The name ends in .p7m or .zip (package_content_type). The file is open at its start, for a
    FileResponse, which closes it (and so deletes the temporary file); any other caller closes it."""
    require_officer(actor)
    req = request_locked(request=request)
    require_state(req, Status.CHECKED, Status.DELIVERED)
    package = Package.objects.get(request=req)
    if package.state != Package.State.SEALED:
        raise ApplicationError(WRONG_STATE, extra={"field": "package"})
    out = package_delivery_file(req=req, package=package)
    try:
        PackageDownload.objects.create(package=package, downloaded_by=actor, zip_sha256=out.zip_sha256,
                                       sha256=out.sha256, encrypted_to=out.encrypted_to)
        request_audit(actor=actor, action="package_download", req=req, package=package.pk, sha256=out.zip_sha256,
                      file_sha256=out.sha256, encrypted_to=out.encrypted_to or None)
    except BaseException:
        out.file.close()
        raise
    return out.name, out.file
