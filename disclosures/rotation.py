"""`rotate_keys` for what disclosures seal under the master keys with associated data bound to the row: the
documents an authority sent (its written order among them), kept as long as the request's record. Without this
walk a rotation would leave them under the old key, and removing that key, as the rotation's last step says, would
make the orders unreadable. Counts only (voipxs.privacy.rotation.rotate_bound)."""
from __future__ import annotations

from voipxs.privacy.rotation import rotate_bound

from .models import DisclosureDocument

# A document is read whole (up to the intake's size limit): at most this many per transaction.
DOCUMENTS_PER_BATCH = 10


def document_aad(document_id: int) -> bytes:
    """The associated data a document is sealed with: its row, so a ciphertext cannot be moved to another."""
    return f"disclosure-document:{document_id}".encode()


def disclosure_document_rotate(*, batch_size: int = 500, dry_run: bool = False) -> dict:
    """Re-encrypt the documents sealed under an older master key with the newest one (registered in sections.py)."""
    return rotate_bound(DisclosureDocument.objects.all(), ("content_enc",), aad=lambda doc: document_aad(doc.pk),
                        batch_size=min(batch_size, DOCUMENTS_PER_BATCH), dry_run=dry_run)
