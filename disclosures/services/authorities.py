"""The register of requesting bodies. A body's contact channels are its own (switchboard, functional
mailbox) from an official source, never the ones a request letter gives: the out-of-band callback of
every request goes to them, so they are verified once before any request of the body is handled.

A body also lists the e-mail domains it sends requests from (LEGAL.md section 5, row 14). A request
that arrives from another domain is flagged, not refused: the callback on the register's channel is
what verifies a request, and the flag tells the officer who makes it to be wary. A change of the list, like one of
the certificate below, is proposed by one officer and put in force by another (authority_domains_set, _confirm).

And a body has the X.509 certificate its packages are encrypted to (LEGAL.md section 5, row 19; envelope.py):
checked when it is set (one certificate, an RSA key for encryption, not expired) and audited by its SHA-256
fingerprint, never its text."""
from __future__ import annotations

import re
from typing import Iterable

from django.db import transaction
from django.utils.translation import gettext_noop
from django.utils.timezone import now as tz_now

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import pseudonym
from voipxs.privacy.phone import InvalidNumber, normalize_e164

from ..envelope import MIN_RSA_BITS, RecipientCertificate, UnreadableCertificate, certificate_read
from ..models import Authority, AuthorityKind
from ..selectors import authority_purpose
from .checks import NOTE_REQUIRED, require_officer

AUTHORITY_BAD_KIND = gettext_noop("Unknown kind of authority.")
AUTHORITY_BAD_PHONE = gettext_noop("The authority's contact number is not a valid phone number.")
AUTHORITY_NO_NAME = gettext_noop("A name is required.")
AUTHORITY_SAME_OFFICER = gettext_noop("Another legal officer than the one who registered this authority must verify it.")
DOMAIN_HAS_AT = gettext_noop("Enter e-mail domains without “@”: politie.nl, not an address.")
DOMAIN_WILDCARD = gettext_noop("Enter e-mail domains without wildcards: a subdomain of a listed domain counts "
                               "as listed.")
DOMAIN_INVALID = gettext_noop("Enter e-mail domains as domain names with a dot, such as politie.nl.")
DOMAINS_TOO_MANY = gettext_noop("An authority lists at most %(max)s e-mail domains.")
MAX_DOMAINS = 20
CERTIFICATE_UNREADABLE = gettext_noop("The certificate cannot be read: paste the authority's X.509 certificate in "
                                      "PEM form, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.")
CERTIFICATE_SEVERAL = gettext_noop("Paste exactly one certificate: the authority's own, not its chain.")
CERTIFICATE_PRIVATE_KEY = gettext_noop("That is a private key: it is not kept here, and the authority should "
                                       "replace it. Paste only the authority's certificate.")
CERTIFICATE_NOT_RSA = gettext_noop("The certificate must hold an RSA key of at least %(bits)s bits: packages are "
                                   "encrypted to it as CMS with RSA key transport.")
CERTIFICATE_NOT_FOR_ENCRYPTION = gettext_noop("The certificate's key usage does not allow encryption (key "
                                              "encipherment): ask the authority for its encryption certificate.")
CERTIFICATE_EXPIRED = gettext_noop("The certificate has expired: ask the authority for its current one.")
_UNREADABLE = {"unreadable": CERTIFICATE_UNREADABLE, "several": CERTIFICATE_SEVERAL,
               "private_key": CERTIFICATE_PRIVATE_KEY}

# A host name in ASCII (IDNA "xn--" labels pass): labels of letters, digits and inner hyphens, at least two,
# the last one not all digits (an IP address is not a domain).
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"({_LABEL}\.)+(?![0-9]+$){_LABEL}")


def email_domain_clean(raw: str, *, field: str = "email_domains") -> str:
    """`raw` as a lower-case domain name, or refused: no "@" (an address is not a domain), no wildcard (a
    subdomain is covered anyway), at least two labels (a top-level domain would list a whole country).
    The message never repeats what was typed: it may be someone's address."""
    domain = raw.strip().lower().rstrip(".")
    if "@" in domain:
        raise ApplicationError(DOMAIN_HAS_AT, extra={"field": field})
    if "*" in domain or "?" in domain or domain.startswith("."):
        raise ApplicationError(DOMAIN_WILDCARD, extra={"field": field})
    if len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise ApplicationError(DOMAIN_INVALID, extra={"field": field})
    return domain


def email_domains_clean(domains: Iterable[str]) -> list[str]:
    """The list to store: each entry cleaned (email_domain_clean), blanks dropped, sorted, once each."""
    cleaned = sorted({email_domain_clean(d) for d in domains if str(d).strip()})
    if len(cleaned) > MAX_DOMAINS:
        params = {"max": MAX_DOMAINS}
        raise ApplicationError.formatted(DOMAINS_TOO_MANY, params, field="email_domains")
    return cleaned


def email_domain_listed(domain: str, listed: Iterable[str]) -> bool:
    """Whether `domain` is one of `listed` or a subdomain of one (mail.politie.nl under politie.nl; not
    evilpolitie.nl, which only ends in the same letters)."""
    return any(domain == d or domain.endswith(f".{d}") for d in listed)


def _normalise_contact_phone(raw: str) -> str:
    try:
        return normalize_e164(raw)
    except InvalidNumber:
        raise ApplicationError(AUTHORITY_BAD_PHONE, extra={"field": "contact_phone"}) from None


@transaction.atomic
def authority_create(*, actor, name: str, kind: str, contact_phone: str, contact_email: str = "",
                     email_domains: Iterable[str] = ()) -> Authority:
    require_officer(actor)
    if kind not in AuthorityKind.values:
        raise ApplicationError(AUTHORITY_BAD_KIND, extra={"field": "kind"})
    if not name.strip():
        raise ApplicationError(AUTHORITY_NO_NAME, extra={"field": "name"})
    authority = Authority(name=name.strip()[:200], kind=kind, contact_phone=_normalise_contact_phone(contact_phone),
                          contact_email=contact_email.strip().lower(), email_domains=email_domains_clean(email_domains),
                          created_by=actor)
    authority.full_clean()
    authority.save(force_insert=True)
    audit_record(actor=actor, action="disclosure.authority_create", purpose=authority_purpose(authority),
                 target_type="authority", target_id=authority.pk,
                 extra={"kind": kind, "email_domains": authority.email_domains})
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
    audit_record(actor=actor, action="disclosure.authority_verify", purpose=authority_purpose(authority),
                 target_type="authority", target_id=authority.pk, extra={"registered_by": authority.created_by_id})
    return authority


def certificate_clean(text: str, *, field: str = "certificate") -> RecipientCertificate:
    """The certificate in `text`, or refused naming `field`: one X.509 certificate (PEM) with an RSA key of at least
    MIN_RSA_BITS bits that may encrypt, and not expired. The message never repeats what was pasted."""
    try:
        cert = certificate_read(text)
    except UnreadableCertificate as exc:
        raise ApplicationError(_UNREADABLE[exc.reason], extra={"field": field}) from None
    if cert.rsa_bits is None or cert.rsa_bits < MIN_RSA_BITS:
        params = {"bits": MIN_RSA_BITS}
        raise ApplicationError.formatted(CERTIFICATE_NOT_RSA, params, field=field)
    if not cert.for_encryption:
        raise ApplicationError(CERTIFICATE_NOT_FOR_ENCRYPTION, extra={"field": field})
    if cert.not_after <= tz_now():
        raise ApplicationError(CERTIFICATE_EXPIRED, extra={"field": field})
    return cert


CERTIFICATE_NOTHING_PROPOSED = gettext_noop("No change of this authority's certificate is waiting to be confirmed.")
CERTIFICATE_SAME_OFFICER = gettext_noop("Another legal officer than the one who proposed this change must confirm it.")
CERTIFICATE_NOT_THE_PROPOSAL = gettext_noop("The certificate proposed has changed since this page was shown: compare "
                                            "its fingerprint again.")


_PROPOSAL_FIELDS = ["certificate_proposed", "certificate_proposed_sha256", "certificate_proposed_at",
                    "certificate_proposed_by"]


def _proposal_set(authority: Authority, cert: RecipientCertificate | None, *, actor) -> None:
    """The waiting change on `authority` (not saved): `cert` proposed by `actor`, or (no actor) none waiting."""
    authority.certificate_proposed = cert.pem if cert and actor else ""
    authority.certificate_proposed_sha256 = cert.sha256 if cert and actor else ""
    authority.certificate_proposed_at = tz_now() if actor else None
    authority.certificate_proposed_by = actor


def _certificate_apply(authority: Authority, cert: RecipientCertificate | None) -> str | None:
    """Put `cert` (None: no certificate) in force on the locked `authority` and clear any proposal; returns the
    fingerprint it replaced."""
    before = authority.certificate_sha256 or None
    authority.certificate = cert.pem if cert else ""
    authority.certificate_sha256 = cert.sha256 if cert else ""
    authority.certificate_not_after = cert.not_after if cert else None
    _proposal_set(authority, None, actor=None)
    authority.full_clean()
    authority.save(update_fields=["certificate", "certificate_sha256", "certificate_not_after", *_PROPOSAL_FIELDS])
    return before


@transaction.atomic
def authority_certificate_set(*, actor, authority: Authority, certificate: str) -> Authority:
    """Propose to set, replace or (with an empty text) remove the certificate the body's packages are encrypted to.
    The change takes effect only when another officer confirms it (`authority_certificate_confirm`): one officer
    alone could otherwise put their own certificate in, or take it out, and read what goes to the authority. A
    new proposal replaces a waiting one. Without an actor (the operator's command line, seeding) it takes effect
    at once. Audited by the SHA-256 fingerprints, never the PEM."""
    if actor is not None:
        require_officer(actor)
    cert = certificate_clean(certificate) if certificate.strip() else None
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    after = cert.sha256 if cert else None
    extra = {"before": authority.certificate_sha256 or None, "after": after,
             "not_after": cert.not_after.isoformat() if cert else None}
    if actor is None:
        _certificate_apply(authority, cert)
        audit_record(actor=None, action="disclosure.authority_certificate", purpose=authority_purpose(authority),
                     target_type="authority", target_id=authority.pk, extra=extra)
        return authority
    _proposal_set(authority, cert, actor=actor)
    authority.save(update_fields=_PROPOSAL_FIELDS)
    audit_record(actor=actor, action="disclosure.authority_certificate_proposed", purpose=authority_purpose(authority),
                 target_type="authority", target_id=authority.pk, extra=extra)
    return authority


@transaction.atomic
def authority_certificate_confirm(*, actor, authority: Authority, proposed_sha256: str) -> Authority:
    """A second officer puts the waiting change in force, having compared its fingerprint with the authority on a
    channel of the register; `proposed_sha256` is the fingerprint they saw ("" for a removal), so a proposal
    replaced in between is not confirmed unseen. The certificate is checked again (it may have expired since)."""
    require_officer(actor)
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    if authority.certificate_proposed_at is None:
        raise ApplicationError(CERTIFICATE_NOTHING_PROPOSED, extra={"field": "certificate"})
    if authority.certificate_proposed_by_id == actor.pk:
        raise ApplicationError(CERTIFICATE_SAME_OFFICER, extra={"field": "confirmed_by"})
    if proposed_sha256.strip().lower() != authority.certificate_proposed_sha256:
        raise ApplicationError(CERTIFICATE_NOT_THE_PROPOSAL, extra={"field": "proposed_sha256"})
    proposed_by = authority.certificate_proposed_by_id
    cert = certificate_clean(authority.certificate_proposed) if authority.certificate_proposed else None
    before = _certificate_apply(authority, cert)
    audit_record(actor=actor, action="disclosure.authority_certificate", purpose=authority_purpose(authority),
                 target_type="authority",
                 target_id=authority.pk, extra={"before": before, "after": cert.sha256 if cert else None,
                                                "not_after": cert.not_after.isoformat() if cert else None,
                                                "proposed_by": pseudonym("user", proposed_by)})
    return authority


@transaction.atomic
def authority_certificate_discard(*, actor, authority: Authority) -> Authority:
    """Drop the waiting change (any officer: the proposer who erred, or the one who would not confirm it)."""
    require_officer(actor)
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    if authority.certificate_proposed_at is None:
        raise ApplicationError(CERTIFICATE_NOTHING_PROPOSED, extra={"field": "certificate"})
    dropped = authority.certificate_proposed_sha256 or None
    _proposal_set(authority, None, actor=None)
    authority.save(update_fields=_PROPOSAL_FIELDS)
    audit_record(actor=actor, action="disclosure.authority_certificate_discarded",
                 purpose=authority_purpose(authority), target_type="authority",
                 target_id=authority.pk, extra={"proposed": dropped})
    return authority


DOMAINS_NOTHING_PROPOSED = gettext_noop("No change of this authority's e-mail domains is waiting to be confirmed.")
DOMAINS_SAME_OFFICER = CERTIFICATE_SAME_OFFICER
DOMAINS_NOT_THE_PROPOSAL = gettext_noop("The e-mail domains proposed have changed since this page was shown: compare "
                                        "them again.")

_DOMAINS_PROPOSAL_FIELDS = ["email_domains_proposed", "email_domains_proposed_at", "email_domains_proposed_by"]


def _domains_proposal_set(authority: Authority, domains: list[str], *, actor) -> None:
    """The waiting change of the list on `authority` (not saved): `domains` proposed by `actor`, or (no actor) none."""
    authority.email_domains_proposed = list(domains) if actor else []
    authority.email_domains_proposed_at = tz_now() if actor else None
    authority.email_domains_proposed_by = actor


def _domains_apply(authority: Authority, domains: list[str]) -> list[str]:
    """Put `domains` in force on the locked `authority` and clear any proposal; returns the list it replaced."""
    before = list(authority.email_domains)
    authority.email_domains = domains
    _domains_proposal_set(authority, [], actor=None)
    authority.full_clean()
    authority.save(update_fields=["email_domains", *_DOMAINS_PROPOSAL_FIELDS])
    return before


def _domains_seen(domains: Iterable[str]) -> list[str]:
    """The list a confirmation names, in the form a proposal is stored (lower case, no trailing dot, sorted, once
    each). Not checked further: an entry that is no domain name just does not match the proposal."""
    return sorted({str(d).strip().lower().rstrip(".") for d in domains if str(d).strip()})


@transaction.atomic
def authority_domains_set(*, actor, authority: Authority, email_domains: Iterable[str]) -> Authority:
    """Propose to replace the e-mail domains the body sends from. The change takes effect only when another officer
    confirms it (`authority_domains_confirm`): one officer alone could otherwise list an attacker's domain, whose
    requests would then no longer be flagged. Until then intake checks the list in force. A new proposal replaces a
    waiting one. Without an actor (the operator's command line, seeding) it takes effect at once. Requests already
    taken in keep the flag they got at intake. Audited with both lists: domains are not personal data."""
    if actor is not None:
        require_officer(actor)
    domains = email_domains_clean(email_domains)
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    extra = {"before": list(authority.email_domains), "after": domains}
    if actor is None:
        _domains_apply(authority, domains)
        audit_record(actor=None, action="disclosure.authority_domains", purpose=authority_purpose(authority),
                     target_type="authority", target_id=authority.pk, extra=extra)
        return authority
    _domains_proposal_set(authority, domains, actor=actor)
    authority.save(update_fields=_DOMAINS_PROPOSAL_FIELDS)
    audit_record(actor=actor, action="disclosure.authority_domains_proposed", purpose=authority_purpose(authority),
                 target_type="authority", target_id=authority.pk, extra=extra)
    return authority


@transaction.atomic
def authority_domains_confirm(*, actor, authority: Authority, proposed_domains: Iterable[str]) -> Authority:
    """A second officer puts the waiting list in force, having checked it against an official source of the body;
    `proposed_domains` is the list they saw ([] for a list without domains), so a proposal replaced in between is
    not confirmed unseen. The list is cleaned again (email_domains_clean) before it is stored."""
    require_officer(actor)
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    if authority.email_domains_proposed_at is None:
        raise ApplicationError(DOMAINS_NOTHING_PROPOSED, extra={"field": "email_domains"})
    if authority.email_domains_proposed_by_id == actor.pk:
        raise ApplicationError(DOMAINS_SAME_OFFICER, extra={"field": "confirmed_by"})
    if _domains_seen(proposed_domains) != list(authority.email_domains_proposed):
        raise ApplicationError(DOMAINS_NOT_THE_PROPOSAL, extra={"field": "proposed_domains"})
    proposed_by = authority.email_domains_proposed_by_id
    domains = email_domains_clean(authority.email_domains_proposed)
    before = _domains_apply(authority, domains)
    audit_record(actor=actor, action="disclosure.authority_domains", purpose=authority_purpose(authority),
                 target_type="authority", target_id=authority.pk,
                 extra={"before": before, "after": domains, "proposed_by": pseudonym("user", proposed_by)})
    return authority


@transaction.atomic
def authority_domains_discard(*, actor, authority: Authority) -> Authority:
    """Drop the waiting change of the list (any officer: the proposer who erred, or one who would not confirm it)."""
    require_officer(actor)
    authority = Authority.objects.select_for_update().get(pk=authority.pk)
    if authority.email_domains_proposed_at is None:
        raise ApplicationError(DOMAINS_NOTHING_PROPOSED, extra={"field": "email_domains"})
    dropped = list(authority.email_domains_proposed)
    _domains_proposal_set(authority, [], actor=None)
    authority.save(update_fields=_DOMAINS_PROPOSAL_FIELDS)
    audit_record(actor=actor, action="disclosure.authority_domains_discarded", purpose=authority_purpose(authority),
                 target_type="authority", target_id=authority.pk, extra={"proposed": dropped})
    return authority
