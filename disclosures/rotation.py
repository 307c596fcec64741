"""`rotate_keys` for what disclosures seal under the master keys with associated data bound to the row: the
documents an authority sent (its written order among them), kept as long as the request's record, and the files of
the packages delivered and not yet deleted. Without these walks a rotation would leave them under the old key, and
removing that key, as the rotation's last step says, would make the orders and the packages unreadable. Counts
only (voipxs.privacy.rotation)."""
from __future__ import annotations

from django.db import transaction
from django.db.models.functions import Substr

from voipxs.privacy import crypto
from voipxs.privacy.rotation import rotate_bound, rotation_recorded

from .models import DisclosureDocument, Package, PackageFile
from .stored import StoredFile, package_file_aad, stored_file_lock, stored_file_reseal

# A document is read whole (up to the intake's size limit): at most this many per transaction.
DOCUMENTS_PER_BATCH = 10


def document_aad(document_id: int) -> bytes:
    """The associated data a document is sealed with: its row, so a ciphertext cannot be moved to another."""
    return f"disclosure-document:{document_id}".encode()


def disclosure_document_rotate(*, batch_size: int = 500, dry_run: bool = False) -> dict:
    """Re-encrypt the documents sealed under an older master key with the newest one (registered in sections.py)."""
    return rotate_bound(DisclosureDocument.objects.all(), ("content_enc",), aad=lambda doc: document_aad(doc.pk),
                        batch_size=min(batch_size, DOCUMENTS_PER_BATCH), dry_run=dry_run)


def _sealed_files():
    """The files of the packages not yet deleted, in id order, each with the head of its ciphertext (version and key
    id) as `head` for who asks for it, never its content."""
    return (PackageFile.objects.filter(package__state=Package.State.SEALED)
            .annotate(head=Substr("content_enc", 1, 5)).order_by("id"))


def _file_reseal(file_id: int, *, dry_run: bool) -> bool:
    """One file in one transaction, its write lock taken first (stored.stored_file_lock: it waits for the reads
    under way, and the file is looked at once it has it): sealed anew under the newest key
    (stored.stored_file_reseal), or on a dry run read to its end as that would. False when it needs nothing (any
    more: rotated or deleted since it was listed). crypto.CryptoError when no configured key opens it; nothing is
    written then."""
    with transaction.atomic():
        if not dry_run:
            stored_file_lock(file_id)
        file = _sealed_files().select_related("package").filter(id=file_id).only("id", "name", "package").first()
        if file is None or not crypto.needs_rotation(bytes(file.head)):
            return False
        aad = package_file_aad(file.package_id, file.name)
        if not dry_run:
            stored_file_reseal(package=file.package, name=file.name, aad=aad)
            return True
        with StoredFile(file.package, file.name, aad=aad) as plain:
            plain.drain()  # the tag checked at the end, as a rotation would
        return True


def disclosure_package_rotate(*, batch_size: int = 500, dry_run: bool = False) -> dict:
    """Seal the files of delivered packages that an older master key sealed anew under the newest one (registered in
    sections.py), one file per transaction, each in chunks (a file can be hundreds of megabytes): a failure leaves
    that file under its old key, readable, for the next run. Returns {"scanned": files, "rotated": files,
    "undecryptable": files no configured key opens}, also the audit entry's counts."""
    with rotation_recorded(PackageFile._meta.label, dry_run=dry_run) as counts:
        counts.update(scanned=0, rotated=0, undecryptable=0)
        last_id = 0
        while batch := list(_sealed_files().filter(id__gt=last_id).values_list("id", flat=True)[:batch_size]):
            for file_id in batch:
                counts["scanned"] += 1
                try:
                    counts["rotated"] += _file_reseal(file_id, dry_run=dry_run)
                except crypto.CryptoError:
                    counts["undecryptable"] += 1
            last_id = batch[-1]
    return dict(counts)
