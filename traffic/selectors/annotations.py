"""Reads of notes on calls (traffic.services.annotations). A note is read with its call, under the access
check and audit entry of that read: the call pages and the API (`notes_attached`, called by
`traffic.selectors.calls.cdr_list` after its check) and the data-subject export (`notes_by_call`, called by
traffic.sections, whose build the export records). The DPO's list of a person's notes is a read of its own
(`cdr_annotation_list`: the DPO, purpose LEGAL_OBLIGATION, audited).

A note shows where its call's owner or the law reads the call: the own history and bills (SELF_SERVICE), a
legal obligation or a dispute. A contractor's masked view and billing do not show the customer's statements."""
from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet

from voipxs.privacy.purposes import Purpose, Role, has_role, require_purpose
from voipxs.statements import execute_prepared

from ..annotations.models import CdrAnnotation
from ..annotations.sealing import note_open

NOTE_PURPOSES = frozenset({Purpose.SELF_SERVICE, Purpose.LEGAL_OBLIGATION, Purpose.DISPUTE})
DPO_ONLY = "Only the data protection officer reads the notes on a person's calls here."

_FIELDS = ("id", "cdr_id", "started_at", "kept_at", "text_enc", "created_at", "dsr_request_id", "author__username")


class CallNote(NamedTuple):
    """A note as its call shows it. `text` is None when it can no longer be read (its month was purged)."""

    text: str | None
    created_at: datetime
    request_id: int | None


class AnnotationRow(NamedTuple):
    """A note as the DPO's list shows it: which call, what it says, when, by whom, for which request."""

    id: int
    cdr_id: int
    call_started_at: datetime
    text: str | None
    created_at: datetime
    request_id: int | None
    author: str


def _rows(qs: QuerySet) -> list[AnnotationRow]:
    rows = []
    for pk, cdr_id, started_at, kept_at, token, created_at, request_id, author in (
            qs.order_by("created_at", "id").values_list(*_FIELDS)):
        text = note_open(token, cdr_id=cdr_id, started_at=started_at, kept=kept_at is not None)
        rows.append(AnnotationRow(pk, cdr_id, started_at, text, created_at, request_id, author or ""))
    return rows


def _by_call(qs: QuerySet) -> dict[int, list[CallNote]]:
    found: dict[int, list[CallNote]] = {}
    for row in _rows(qs):
        found.setdefault(row.cdr_id, []).append(CallNote(row.text, row.created_at, row.request_id))
    return found


# The notes of a page of calls: on the call history, the portal's hottest page, one prepared statement over
# the page's ids (cdrnote_cdr_idx), without the ORM's compiling or the author's join that the DPO's list needs
# (bench.portal: 0.40-0.57 ms a page through the ORM).
_PAGE_NOTES = (f"SELECT cdr_id, started_at, kept_at, text_enc, created_at, dsr_request_id "  # nosec B608
               f"FROM {CdrAnnotation._meta.db_table} WHERE cdr_id = ANY(%s) ORDER BY created_at, id")


def _page_notes(ids: list[int]) -> dict[int, list[CallNote]]:
    if connection.vendor != "postgresql":
        rows = CdrAnnotation.objects.filter(cdr_id__in=ids).order_by("created_at", "id").values_list(
            "cdr_id", "started_at", "kept_at", "text_enc", "created_at", "dsr_request_id")
    else:
        with connection.cursor() as cursor:
            execute_prepared(cursor, "cdr_notes_of_page", _PAGE_NOTES, [ids])
            rows = cursor.fetchall()
    found: dict[int, list[CallNote]] = {}
    for cdr_id, started_at, kept_at, token, created_at, request_id in rows:
        text = note_open(token, cdr_id=cdr_id, started_at=started_at, kept=kept_at is not None)
        found.setdefault(cdr_id, []).append(CallNote(text, created_at, request_id))
    return found


def notes_attached(rows: list, *, purpose: Purpose | str, noted: set[int] | None = None) -> list:
    """Call rows (traffic.selectors.calls.CallRow) with each call's notes, oldest first, in one query; rows of
    a purpose that does not show notes come back as they are. The caller checked and recorded the access.
    `noted`: the ids of the calls that have a note, where the caller's read already said (the own history's
    statement does): no query for a page without one."""
    if not rows or Purpose(purpose) not in NOTE_PURPOSES or noted is not None and not noted:
        return rows
    found = _page_notes(sorted(noted) if noted is not None else [row.id for row in rows])
    if not found:
        return rows
    return [row._replace(notes=tuple(found[row.id])) if row.id in found else row for row in rows]


def notes_by_call(*, account_id: int) -> dict[int, list[CallNote]]:
    """Every note on the person's calls, by call id, for their data-subject export (traffic.sections)."""
    return _by_call(CdrAnnotation.objects.filter(account_id=account_id))


def cdr_annotation_list(*, actor: Any, account: Any,
                        purpose: Purpose | str = Purpose.LEGAL_OBLIGATION) -> list[AnnotationRow]:
    """The notes on a person's calls, oldest first, for the DPO handling their request."""
    account_id = getattr(account, "pk", account)
    if not has_role(actor, Role.DPO):
        raise PermissionDenied(DPO_ONLY)
    purpose = require_purpose(actor=actor, purpose=purpose, action="cdr_annotation.list", target_type="user",
                              target_id=account_id)
    if purpose != Purpose.LEGAL_OBLIGATION:
        raise PermissionDenied(DPO_ONLY)
    return _rows(CdrAnnotation.objects.filter(account_id=account_id))
