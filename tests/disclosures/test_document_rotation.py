"""Key rotation reaches the documents an authority sent (GDPR art. 32; README "Key rotation"): after
`rotate_keys` and the removal of the old key, as the rotation's procedure says, the written order on file
still opens; before, `rotate_keys` did not walk them and removing the old key made every order unreadable."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from disclosures.models import DisclosureDocument
from disclosures.rotation import document_aad
from voipxs.privacy import crypto
from voipxs.privacy.registry import rotators

from .conftest import receive

pytestmark = pytest.mark.django_db

ORDER = b"%PDF-1.7 signed order"


def test_a_written_order_sealed_under_an_old_key_still_opens_once_that_key_is_gone(settings, legal1, authority):
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    with override_settings(FIELD_ENCRYPTION_KEYS=keys[::-1]):  # the order came in under the key now retired
        req = receive(legal1, authority)
    order = DisclosureDocument.objects.get(request=req, is_written_order=True)
    assert crypto.needs_rotation(bytes(order.content_enc))

    call_command("rotate_keys", stdout=open("/dev/null", "w"))

    order.refresh_from_db()
    with override_settings(FIELD_ENCRYPTION_KEYS=keys[:1]):  # the old key removed
        assert crypto.decrypt_bytes(bytes(order.content_enc), aad=document_aad(order.pk)) == ORDER
    assert "disclosures.DisclosureDocument" in rotators()


def test_a_dry_run_counts_the_documents_and_changes_none(settings, legal1, authority):
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    with override_settings(FIELD_ENCRYPTION_KEYS=keys[::-1]):
        req = receive(legal1, authority)
    before = bytes(DisclosureDocument.objects.get(request=req).content_enc)
    assert rotators()["disclosures.DisclosureDocument"](dry_run=True) == {"scanned": 1, "rotated": 1,
                                                                          "undecryptable": 0}
    assert bytes(DisclosureDocument.objects.get(request=req).content_enc) == before
