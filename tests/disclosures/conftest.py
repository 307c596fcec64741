"""Shared setup for the disclosures tests: a verified police unit with its encryption certificate on file
(tests/disclosures/certificates.py), alice's number, a helper that takes a request in as an officer does (with
its written order on file, unless it is an emergency or an oral order, whose order follows) and one that walks
it through the workflow up to a given state."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.utils.timezone import now

from disclosures.models import AuthorityKind, DisclosureRequest, LegalBasis
from disclosures.services.authorities import authority_certificate_set, authority_create, authority_verify
from disclosures.services.intake import disclosure_document_add, disclosure_request_receive
from disclosures.services.transitions import (
    disclosure_output_check,
    disclosure_production_start,
    disclosure_request_approve,
    disclosure_request_deliver,
    disclosure_request_start_review,
    disclosure_request_verify_authority,
)

from .certificates import police_recipient

ALICE_NUMBER = "+31205550101"
OTHER = "+31699993678"


@pytest.fixture
def authority(legal1, legal2):
    """Registered by legal1, its channels verified by legal2 (never the same officer)."""
    a = authority_create(actor=legal1, name="Politie Eenheid Test", kind=AuthorityKind.POLICE,
                         contact_phone="020 555 9999", contact_email="Desk@Politie.example")
    return with_certificate(authority_verify(actor=legal2, authority=a, note="checked against the official register"),
                            actor=legal1)


@pytest.fixture
def bare(legal1, legal2):
    """A verified police unit without a certificate on file: it gets the plain ZIP."""
    body = authority_create(actor=legal1, name="Politie Eenheid Zonder", kind=AuthorityKind.POLICE,
                            contact_phone="020 555 9999")
    return authority_verify(actor=legal2, authority=body, note="checked against the official register")


@pytest.fixture
def dispute_body(legal1, legal2):
    a = authority_create(actor=legal1, name="Geschillencommissie Test", kind=AuthorityKind.DISPUTE_COMMISSION,
                         contact_phone="+31205555310")
    return with_certificate(authority_verify(actor=legal2, authority=a, note="register"), actor=legal1)


def with_certificate(authority, *, actor):
    """`authority` with the test police certificate on file (police_recipient), as the register would have it once a
    second officer confirmed it (here set as the operator sets it, without an actor: tests of the four eyes are in
    test_authority_certificate.py)."""
    return authority_certificate_set(actor=None, authority=authority, certificate=police_recipient().certificate_pem)


def window(days: int = 30) -> tuple[datetime, datetime]:
    end = now().replace(microsecond=0)
    return end - timedelta(days=days), end


def receive(actor, authority, *, numbers=(ALICE_NUMBER,), account_ids=(), basis=LegalBasis.SV_126N,
            categories=("traffic_data",), days=30, reference=None, with_order: bool | None = None,
            **kwargs) -> DisclosureRequest:
    """Take a request in. `with_order` (default: unless it is an emergency or an oral order) files its written
    order at intake, as the officer does with an order that came in writing."""
    start, end = kwargs.pop("window", None) or window(days)
    req = disclosure_request_receive(
        actor=actor, authority=authority, reference=reference or f"REF-{DisclosureRequest.objects.count() + 1}",
        legal_basis=basis, categories=list(categories), window_start=start, window_end=end,
        # Three days after it came in: after `now` when the test says when that was, not after today.
        deadline=kwargs.pop("deadline", (kwargs.get("now") or now()) + timedelta(days=3)), numbers=list(numbers),
        account_ids=list(account_ids), **kwargs)
    if with_order if with_order is not None else not (req.emergency or req.oral_order):
        order_file(actor, req)
    return DisclosureRequest.objects.get(pk=req.pk)


def order_file(actor, req, **kwargs):
    """File `req`'s written order (what the data are handed over on) under its documents."""
    disclosure_document_add(actor=actor, request=req, title=f"vordering {req.reference}.pdf",
                            content=b"%PDF-1.7 signed order", content_type="application/pdf", is_written_order=True,
                            **kwargs)
    return DisclosureRequest.objects.get(pk=req.pk)


def to_state(req, state: str, *, intake, approvers, checker=None):
    """Walk `req` forward to `state` (approved, produced, checked, delivered)."""
    order = ["authority_verified", "under_review", "approved", "produced", "checked", "delivered"]
    target = order.index(state)
    if req.status == "received":
        req = disclosure_request_verify_authority(actor=intake, request=req, channel="phone")
    if target >= 1 and req.status == "authority_verified":
        req = disclosure_request_start_review(actor=intake, request=req)
    if target >= 2 and req.status == "under_review":
        for officer in approvers:
            req = disclosure_request_approve(actor=officer, request=req)
    if target >= 3 and req.status == "approved":
        produce(intake, req)
        req = DisclosureRequest.objects.get(pk=req.pk)
    if target >= 4 and req.status == "produced":
        req = disclosure_output_check(actor=checker or approvers[0], request=req)
    if target >= 5 and req.status == "checked":
        if not req.authority.certificate:  # packages go encrypted to the authority's certificate
            with_certificate(req.authority, actor=intake)
        req = disclosure_request_deliver(actor=intake, request=req, receipt="handed over, receipt PV-1")
    return DisclosureRequest.objects.get(pk=req.pk)


UTC = dt_timezone.utc


def produce(actor, req):
    """Start the production and run the queued task (on commit, as in production; eager Celery)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        disclosure_production_start(actor=actor, request=req)
    return DisclosureRequest.objects.get(pk=req.pk)
