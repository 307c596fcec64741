"""disclosures 0003: preservation requests taken in before holds expired get their statutory term, on
the request and on its running hold. The data step is run on the current models (same fields)."""
from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps

from disclosures.models import DisclosureRequest, LegalBasis
from retention.models import LegalHold

from .conftest import receive

pytestmark = pytest.mark.django_db

step = importlib.import_module("disclosures.migrations.0003_legal_bases_emergency").preservations_get_their_term


def _as_before(req) -> None:
    """What a request and its hold looked like before 0003: no term, a hold without expiry."""
    DisclosureRequest.objects.filter(pk=req.pk).update(preserve_until=None)
    LegalHold.objects.filter(pk=req.hold_id).update(expires_at=None)


def test_an_old_preservation_gets_its_term_and_its_hold_an_expiry(legal1, authority):
    old = receive(legal1, authority, basis=LegalBasis.SV_126NI, reference="OLD-1")
    epoc = receive(legal1, authority, basis=LegalBasis.EU_PRESERVATION, reference="OLD-2")
    other = receive(legal1, authority, basis=LegalBasis.SV_126N, reference="OLD-3")
    for req in (old, epoc):
        _as_before(req)
    step(apps, None)
    for req, days in ((old, 90), (epoc, 60)):
        req = DisclosureRequest.objects.get(pk=req.pk)
        assert req.preserve_until == req.received_at + timedelta(days=days)
        assert LegalHold.objects.get(pk=req.hold_id).expires_at == req.preserve_until
    assert DisclosureRequest.objects.get(pk=other.pk).preserve_until is None
    assert LegalHold.objects.get(pk=other.hold_id).expires_at is None
