"""Reads of a customer's call exports (traffic.services.call_exports writes them): the export itself,
for its owner only (anyone else gets a 404, as if it did not exist), and its file, whose every
download is checked and audited as a read of the owner's calls (SELF_SERVICE)."""
from __future__ import annotations

from typing import Any, Iterator

from django.http import Http404
from django.utils.timezone import now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy import files
from voipxs.privacy.purposes import Purpose, require_purpose

from ..models import CallExport

EXPORT_NOT_READY = gettext_noop("This export is not ready yet; its status says when it is.")


def call_export_get_own(*, actor: Any, export_id: int) -> CallExport:
    """The actor's own export, unless expired. Another customer's export, a missing one and an expired
    one all answer the same 404."""
    export = CallExport.objects.filter(pk=export_id, owner_id=actor.pk, expires_at__gt=now()).first()
    if export is None:
        raise Http404
    return export


def call_export_file(*, actor: Any, export: CallExport) -> Iterator[bytes]:
    """The CSV of a ready export, decrypted chunk by chunk (1 MiB) for a streaming download. Checks the
    purpose and audits the download before the first byte; refuses an export that is not ready."""
    require_purpose(actor=actor, purpose=Purpose.SELF_SERVICE, action="call_export.download",
                    target_type="call_export", target_id=export.pk, extra={"calls": export.calls})
    if export.owner_id != actor.pk:
        raise Http404
    if export.status != CallExport.Status.READY:
        raise ApplicationError(EXPORT_NOT_READY, {"field": "status"})
    return files.decrypt_file(export.file_path, **export.file_labels)
