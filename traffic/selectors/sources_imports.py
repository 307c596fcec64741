"""Reads of sources and import records, purpose-bound and audited.

Import reports hold line numbers, reasons and switch call ids, never numbers or names; they are
still traffic-adjacent, so billing staff read them under BILLING like the CDRs they describe, and those who
operate the switches (network operations, administrators) under SECURITY (`ingest_purpose`)."""
from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from voipxs.privacy.purposes import Purpose, Role, has_role, require_purpose

from ..models import CdrImport, Source

# Who works with the CDR sources and imports: billing staff run imports for invoicing; network operations and
# administrators operate the switches. The pages and the API let these roles in (views/access.py, api/permissions.py).
INGEST_ROLES = (Role.BILLING, Role.NOC, Role.ADMIN)


def source_list(*, actor, purpose: Purpose | str = Purpose.BILLING) -> QuerySet[Source]:
    require_purpose(actor=actor, purpose=purpose, action="cdr_source.list")
    return Source.objects.order_by("name")


def cdr_import_list(*, actor, purpose: Purpose | str = Purpose.BILLING, source: Source | None = None,
                    limit: int = 100) -> list[CdrImport]:
    require_purpose(actor=actor, purpose=purpose, action="cdr_import.list")
    qs = CdrImport.objects.select_related("source").order_by("-created_at", "-id")
    if source is not None:
        qs = qs.filter(source=source)
    return list(qs[:limit])


def cdr_import_get(*, actor, import_id: int, purpose: Purpose | str = Purpose.BILLING) -> CdrImport:
    require_purpose(actor=actor, purpose=purpose, action="cdr_import.view", target_type="cdr_import", target_id=import_id)
    return get_object_or_404(CdrImport.objects.select_related("source"), pk=import_id)


def ingest_purpose(actor) -> Purpose:
    """Billing staff run imports for invoicing; network operations and administrators operate the switches
    (security of the service). Anyone else is refused by require_purpose with the purpose billing. The services
    record a person's upload, re-run and source changes under it too; a command or a task (no person) acts for
    billing."""
    if has_role(actor, Role.NOC, Role.ADMIN) and not has_role(actor, Role.BILLING):
        return Purpose.SECURITY
    return Purpose.BILLING
