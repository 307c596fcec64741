"""The representative of a request made through one (a lawyer, a legal guardian, a power of attorney): the proof
of their authority that support may upload, and what goes when the person's account goes.

The proof is optional (support must check the proof either way and tick that it did: dsr_representative_check). When
uploaded it is a PDF, JPEG or PNG of at most PROOF_MAX_BYTES, told apart by its own first bytes (what the browser
says is not trusted), kept encrypted in the database under the master key (voipxs.privacy.crypto, as disclosures'
received documents) and bound to its request, and read by the DPO only (selectors.dsr_representative_proof_get,
purpose and audit). The audit entries carry its type and size, never its content or name.

The request stays as the record of how it was handled (GDPR art. 5(2)); the representative's name and their proof
are a third party's personal data that only this record needs, and not once the person's account is erased or
anonymised: nobody answers for that request to the person any more. So both go with the account (closing.py's
_personal_data_remove, which erasure and the retention purge both use), and `representative_name_erased_at` says
when (the database allows a request through a representative without a name only with it). What the record needs
stays: the kind of representative and when support checked their proof of authority.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import decrypt_bytes, encrypt_bytes
from voipxs.privacy.purposes import DSR_PURPOSE
from voipxs.privacy.rotation import rotate_bound

from ..models import User
from .models import DataSubjectRequest, RepresentativeProof

PROOF_MAX_BYTES = 5 * 1024 * 1024
# The first bytes of each kind of file taken, and its content type; the DPO's download is named after the last part.
PROOF_SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
PROOF_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
# Marked for translation; the page translates them.
PROOF_EMPTY = gettext_noop("Proof of authority: the file is empty.")
PROOF_TOO_LARGE = gettext_noop("Proof of authority: at most 5 MB.")
PROOF_WRONG_TYPE = gettext_noop("Proof of authority: upload a PDF, JPEG or PNG file (a scan or a photo of it).")


def representative_proof_check(*, content: bytes) -> str:
    """The content type of an uploaded proof of authority, from its first bytes; a field error when it is empty,
    too large, or not a PDF, JPEG or PNG. Writes nothing."""
    if not content:
        raise ApplicationError(PROOF_EMPTY, extra={"field": "proof"})
    if len(content) > PROOF_MAX_BYTES:
        raise ApplicationError(PROOF_TOO_LARGE, extra={"field": "proof"})
    for signature, content_type in PROOF_SIGNATURES:
        if content.startswith(signature):
            return content_type
    raise ApplicationError(PROOF_WRONG_TYPE, extra={"field": "proof"})


def _aad(request_id: int) -> bytes:
    """Binds the ciphertext to its request: it cannot be moved to another one unnoticed."""
    return f"dsr-representative-proof:{request_id}".encode()


def representative_proof_store(*, request: DataSubjectRequest, content: bytes, actor: Any) -> RepresentativeProof:
    """Keep the proof of authority of `request` (just created, in the caller's transaction), encrypted."""
    content_type = representative_proof_check(content=content)
    proof = RepresentativeProof.objects.create(
        request=request, content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
        content_enc=encrypt_bytes(content, aad=_aad(request.pk)))
    audit_record(actor=actor, action="dsr.representative_proof_add", purpose=DSR_PURPOSE, target_type="dsr",
                 target_id=request.pk,
                 extra={"content_type": content_type, "size": len(content)})
    return proof


def representative_proof_content(proof: RepresentativeProof) -> bytes:
    """The plain file (for selectors.dsr_representative_proof_get, which checks the DPO and records the read)."""
    return decrypt_bytes(bytes(proof.content_enc), aad=_aad(proof.request_id))


def representative_proof_rotate(*, batch_size: int = 500, dry_run: bool = False) -> dict:
    """`rotate_keys` (registered in dsr/sections.py): re-encrypt the proofs under the newest master key."""
    return rotate_bound(RepresentativeProof.objects.all(), ("content_enc",), aad=lambda row: _aad(row.request_id),
                        batch_size=batch_size, dry_run=dry_run)


def dsr_representative_erase(*, user: User, stamp: datetime) -> dict[str, int]:
    """Blank the representatives' names on `user`'s requests and delete their proofs of authority (the caller holds
    the account's row lock and writes the audit entry, with these counts). A name erased before stays so."""
    names = (DataSubjectRequest.objects.filter(user_id=user.pk, representative_name__isnull=False)
             .update(representative_name=None, representative_name_erased_at=stamp))
    proofs = RepresentativeProof.objects.filter(request__user_id=user.pk).delete()[0]
    return {"representative_names_erased": names, "representative_proofs_deleted": proofs}
