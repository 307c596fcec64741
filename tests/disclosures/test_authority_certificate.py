"""An authority's recipient certificate (LEGAL.md section 5, row 19): the X.509 certificate its packages are
encrypted to. Set, replaced or removed only through authority_certificate_set (the staff page's form), which
proposes the change, and authority_certificate_confirm by a second officer, which puts it in force (one officer
alone cannot redirect what goes to the authority); checked when proposed and again when confirmed (one PEM
certificate, an RSA key of at least 2048 bits that may encrypt, not expired) with an error naming the field, and
audited by SHA-256 fingerprint, never by its text or a key."""
from __future__ import annotations

import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.urls import reverse

from disclosures.models import Authority
from disclosures.services.authorities import (
    CERTIFICATE_EXPIRED,
    CERTIFICATE_NOT_FOR_ENCRYPTION,
    CERTIFICATE_NOT_RSA,
    CERTIFICATE_PRIVATE_KEY,
    CERTIFICATE_SEVERAL,
    CERTIFICATE_NOT_THE_PROPOSAL,
    CERTIFICATE_NOTHING_PROPOSED,
    CERTIFICATE_SAME_OFFICER,
    CERTIFICATE_UNREADABLE,
    authority_certificate_confirm,
    authority_certificate_discard,
    authority_certificate_set,
)
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.crypto import pseudonym

from .certificates import make_recipient, police_recipient

pytestmark = pytest.mark.django_db


def _fingerprint(pem: str) -> str:
    return hashlib.sha256(x509.load_pem_x509_certificate(pem.encode()).public_bytes(
        serialization.Encoding.DER)).hexdigest()


def _audit_text() -> str:
    return json.dumps(list(AuditEntry.objects.values_list("extra", flat=True)))


def _set(proposer, confirmer, body, pem: str) -> Authority:
    proposed = authority_certificate_set(actor=proposer, authority=body, certificate=pem)
    return authority_certificate_confirm(actor=confirmer, authority=body,
                                         proposed_sha256=proposed.certificate_proposed_sha256)


class AuthorityCertificateTests:
    def test_it_keeps_the_certificate_its_fingerprint_and_term_and_audits_the_fingerprint_only(self, legal1, legal3,
                                                                                                bare):
        pem = police_recipient().certificate_pem
        body = _set(legal3, legal1, bare, f"  \n{pem}\n  ")
        stored = Authority.objects.get(pk=body.pk)
        assert stored.certificate == pem and stored.certificate_sha256 == _fingerprint(pem)
        assert stored.certificate_not_after == police_recipient().certificate.not_valid_after_utc
        assert not stored.certificate_expired and stored.certificate_proposed_at is None
        entry = AuditEntry.objects.get(action="disclosure.authority_certificate")
        assert entry.actor == pseudonym("user", legal1.pk)  # the second officer put it in force
        assert entry.extra == {"before": None, "after": _fingerprint(pem), "proposed_by": pseudonym("user", legal3.pk),
                               "not_after": stored.certificate_not_after.isoformat()}
        assert "BEGIN" not in _audit_text()

    def test_replacing_audits_both_fingerprints_and_an_empty_text_removes_it(self, legal1, legal3, bare):
        first, second = police_recipient().certificate_pem, make_recipient().certificate_pem
        _set(legal3, legal1, bare, first)
        _set(legal1, legal3, bare, second)
        body = _set(legal3, legal1, bare, "  ")
        assert (body.certificate, body.certificate_sha256, body.certificate_not_after) == ("", "", None)
        trail = [(e.extra["before"], e.extra["after"]) for e in
                 AuditEntry.objects.filter(action="disclosure.authority_certificate").order_by("pk")]
        assert trail == [(None, _fingerprint(first)), (_fingerprint(first), _fingerprint(second)),
                         (_fingerprint(second), None)]

    @pytest.mark.parametrize("make, message", [
        (lambda: "not a certificate", CERTIFICATE_UNREADABLE),
        (lambda: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", CERTIFICATE_UNREADABLE),
        (lambda: police_recipient().certificate_pem + make_recipient().certificate_pem, CERTIFICATE_SEVERAL),
        (lambda: police_recipient().certificate_pem + police_recipient().key_pem.decode(), CERTIFICATE_PRIVATE_KEY),
        (lambda: make_recipient(ec_key=True).certificate_pem, CERTIFICATE_NOT_RSA % {"bits": 2048}),
        (lambda: make_recipient(key_size=1024).certificate_pem, CERTIFICATE_NOT_RSA % {"bits": 2048}),
        (lambda: make_recipient(for_encryption=False).certificate_pem, CERTIFICATE_NOT_FOR_ENCRYPTION),
        (lambda: make_recipient(expired=True).certificate_pem, CERTIFICATE_EXPIRED),
    ], ids=["text", "bad-base64", "chain", "private-key", "ec-key", "rsa-1024", "signing-only", "expired"])
    def test_it_refuses_what_packages_cannot_be_encrypted_to_naming_the_field(self, legal3, bare, make, message):
        with pytest.raises(ApplicationError) as exc:
            authority_certificate_set(actor=legal3, authority=bare, certificate=make())
        assert exc.value.message == message and exc.value.extra["field"] == "certificate"
        assert Authority.objects.get(pk=bare.pk).certificate == ""
        assert not AuditEntry.objects.filter(action="disclosure.authority_certificate").exists()

    def test_a_proposal_changes_nothing_until_a_second_officer_confirms_it(self, legal1, legal3, bare):
        pem = police_recipient().certificate_pem
        body = authority_certificate_set(actor=legal3, authority=bare, certificate=pem)
        stored = Authority.objects.get(pk=body.pk)
        assert stored.certificate == "" and stored.certificate_proposed_sha256 == _fingerprint(pem)
        assert stored.certificate_proposed_by == legal3
        with pytest.raises(ApplicationError) as exc:  # the proposer alone
            authority_certificate_confirm(actor=legal3, authority=bare, proposed_sha256=_fingerprint(pem))
        assert exc.value.message == CERTIFICATE_SAME_OFFICER and exc.value.extra["field"] == "confirmed_by"
        assert Authority.objects.get(pk=bare.pk).certificate == ""
        assert AuditEntry.objects.get(action="disclosure.authority_certificate_proposed").extra["after"] == \
            _fingerprint(pem)

    def test_a_removal_waits_for_the_second_officer_too(self, legal1, legal3, bare):
        _set(legal3, legal1, bare, police_recipient().certificate_pem)
        authority_certificate_set(actor=legal3, authority=bare, certificate="")
        assert Authority.objects.get(pk=bare.pk).certificate == police_recipient().certificate_pem  # still in force
        assert authority_certificate_confirm(actor=legal1, authority=bare, proposed_sha256="").certificate == ""

    def test_a_confirmation_of_another_fingerprint_than_the_waiting_one_is_refused(self, legal1, legal3, bare):
        authority_certificate_set(actor=legal3, authority=bare, certificate=police_recipient().certificate_pem)
        seen = Authority.objects.get(pk=bare.pk).certificate_proposed_sha256
        authority_certificate_set(actor=legal3, authority=bare, certificate=make_recipient().certificate_pem)
        with pytest.raises(ApplicationError) as exc:
            authority_certificate_confirm(actor=legal1, authority=bare, proposed_sha256=seen)
        assert exc.value.message == CERTIFICATE_NOT_THE_PROPOSAL and exc.value.extra["field"] == "proposed_sha256"
        assert Authority.objects.get(pk=bare.pk).certificate == ""

    def test_a_discarded_proposal_cannot_be_confirmed(self, legal1, legal3, bare):
        authority_certificate_set(actor=legal3, authority=bare, certificate=police_recipient().certificate_pem)
        seen = Authority.objects.get(pk=bare.pk).certificate_proposed_sha256
        authority_certificate_discard(actor=legal1, authority=bare)
        with pytest.raises(ApplicationError) as exc:
            authority_certificate_confirm(actor=legal1, authority=bare, proposed_sha256=seen)
        assert exc.value.message == CERTIFICATE_NOTHING_PROPOSED
        assert AuditEntry.objects.get(action="disclosure.authority_certificate_discarded").extra == {"proposed": seen}

    def test_a_customer_cannot_set_it(self, alice, bare):
        with pytest.raises(ApplicationError):
            authority_certificate_set(actor=alice, authority=bare, certificate=police_recipient().certificate_pem)
        assert Authority.objects.get(pk=bare.pk).certificate == ""


class AuthorityCertificatePageTests:
    def _post(self, client, body, **data):
        return client.post(reverse("disclosures:authority-certificate", args=[body.pk]), data, follow=True)

    def test_one_officer_proposes_it_on_the_register_page_and_another_confirms_it(self, client, legal1, legal3,
                                                                                   bare):
        staff = verified_client(client, legal3)
        pem = police_recipient().certificate_pem
        page = self._post(staff, bare, certificate=pem)
        assert b"Tick the box to confirm" in page.content and Authority.objects.get(pk=bare.pk).certificate == ""
        page = self._post(staff, bare, certificate=pem, confirm="yes")
        assert page.status_code == 200 and b"Change proposed" in page.content
        assert _fingerprint(pem).encode() in page.content  # the register shows the fingerprint to compare
        assert b"another legal officer confirms it" in page.content  # not a button for the proposer
        assert Authority.objects.get(pk=bare.pk).certificate == ""
        client.logout()
        second = verified_client(client, legal1)
        confirm_url = reverse("disclosures:authority-certificate-confirm", args=[bare.pk])
        assert confirm_url.encode() in second.get(reverse("disclosures:authorities")).content
        page = second.post(confirm_url, {"proposed_sha256": _fingerprint(pem)}, follow=True)
        assert b"Tick the box to confirm" in page.content and Authority.objects.get(pk=bare.pk).certificate == ""
        page = second.post(confirm_url, {"proposed_sha256": _fingerprint(pem), "confirm": "yes"}, follow=True)
        assert page.status_code == 200 and b"Certificate saved" in page.content
        assert Authority.objects.get(pk=bare.pk).certificate_sha256 == _fingerprint(pem)

    def test_a_proposal_is_discarded_on_the_page(self, client, legal3, bare):
        staff = verified_client(client, legal3)
        self._post(staff, bare, certificate=police_recipient().certificate_pem, confirm="yes")
        page = staff.post(reverse("disclosures:authority-certificate-discard", args=[bare.pk]), follow=True)
        assert b"was discarded" in page.content
        assert Authority.objects.get(pk=bare.pk).certificate_proposed_at is None

    def test_a_refusal_is_shown_and_nothing_is_stored(self, client, legal3, bare):
        staff = verified_client(client, legal3)
        page = self._post(staff, bare, certificate=make_recipient(for_encryption=False).certificate_pem, confirm="yes")
        assert b"does not allow encryption" in page.content
        assert Authority.objects.get(pk=bare.pk).certificate == ""

    def test_the_register_page_works_in_dutch_and_english(self, client, legal3, bare, authority):
        staff = verified_client(client, legal3)
        for language in ("nl", "en"):
            page = staff.get(reverse("disclosures:authorities"), HTTP_ACCEPT_LANGUAGE=language)
            assert page.status_code == 200 and f'<html lang="{language}"'.encode() in page.content
            assert f'id="certificate-{bare.pk}"'.encode() in page.content
            assert authority.certificate_sha256.encode() in page.content

    def test_only_a_post_by_a_legal_officer_reaches_it(self, client, alice, legal3, bare):
        url = reverse("disclosures:authority-certificate", args=[bare.pk])
        assert verified_client(client, legal3).get(url).status_code == 405
        customer = verified_client(client, alice)
        posted = {"certificate": police_recipient().certificate_pem, "confirm": "yes"}
        assert customer.post(url, posted).status_code == 404
        assert Authority.objects.get(pk=bare.pk).certificate == ""
