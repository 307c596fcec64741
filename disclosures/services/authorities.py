"""The register of requesting bodies. A body's contact channels are its own (switchboard, functional
mailbox) from an official source, never the ones a request letter gives: the out-of-band callback of
every request goes to them, so they are verified once before any request of the body is handled."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_noop
from django.utils.timezone import now as tz_now

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.phone import InvalidNumber, normalize_e164

from ..models import Authority, AuthorityKind
from .checks import NOTE_REQUIRED, require_officer

AUTHORITY_BAD_KIND = "Unknown kind of authority."
AUTHORITY_BAD_PHONE = "The authority's contact number is not a valid phone number."
AUTHORITY_NO_NAME = "A name is required."
AUTHORITY_SAME_OFFICER = gettext_noop("Another legal officer than the one who registered this authority must verify it.")


def _normalise_contact_phone(raw: str) -> str:
    try:
        return normalize_e164(raw)
    except InvalidNumber:
        raise ApplicationError(AUTHORITY_BAD_PHONE, extra={"field": "contact_phone"}) from None


@transaction.atomic
def authority_create(*, actor, name: str, kind: str, contact_phone: str, contact_email: str = "") -> Authority:
    require_officer(actor)
    if kind not in AuthorityKind.values:
        raise ApplicationError(AUTHORITY_BAD_KIND, extra={"field": "kind"})
    if not name.strip():
        raise ApplicationError(AUTHORITY_NO_NAME, extra={"field": "name"})
    authority = Authority(name=name.strip()[:200], kind=kind, contact_phone=_normalise_contact_phone(contact_phone),
                          contact_email=contact_email.strip().lower(), created_by=actor)
    authority.full_clean()
    authority.save(force_insert=True)
    audit_record(actor=actor, action="disclosure.authority_create", target_type="authority", target_id=authority.pk,
                 extra={"kind": kind})
    return authority


@transaction.atomic
def authority_verify(*, actor, authority: Authority, note: str) -> Authority:
    """Record that the body's channels were checked against an official source (not the request letter),
    by another officer than the one who entered them: one person alone could otherwise register a forged
    body with their own accomplice's number and "call it back"."""
    require_officer(actor)
    if not note.strip():
        raise ApplicationError(NOTE_REQUIRED, extra={"field": "note"})
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    if authority.created_by_id is not None and authority.created_by_id == actor.pk:
        raise ApplicationError(AUTHORITY_SAME_OFFICER, extra={"field": "verified_by"})
    authority.verified_at, authority.verified_by, authority.verification_note = tz_now(), actor, note.strip()[:300]
    authority.save(update_fields=["verified_at", "verified_by", "verification_note"])
    audit_record(actor=actor, action="disclosure.authority_verify", target_type="authority", target_id=authority.pk,
                 extra={"registered_by": authority.created_by_id})
    return authority
