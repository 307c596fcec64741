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

A representative may ask for what the person already has open (an export whose build is stuck is then sent again:
dsr_request_create_for returns the open request). Their kind, name and proof are then recorded on that request when it
has no representative yet; when it has the same one, only a proof it lacks is added; another representative, or a
second proof, is refused with a field error: nothing support typed or uploaded is dropped unnoticed.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.utils.timezone import now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import decrypt_bytes, encrypt_bytes
from voipxs.privacy.filetypes import JPEG, PDF, PNG, file_type_detect
from voipxs.privacy.purposes import DSR_PURPOSE
from voipxs.privacy.rotation import rotate_bound

from ..models import User
from .models import DataSubjectRequest, RepresentativeProof

PROOF_MAX_BYTES = 5 * 1024 * 1024
# The kinds of file taken, told apart by their first bytes (voipxs.privacy.filetypes); the DPO's download is named
# with the extension of the content type stored.
PROOF_TYPES = (PDF, PNG, JPEG)
PROOF_EXTENSIONS = {kind.content_type: kind.extension for kind in PROOF_TYPES}
# Marked for translation; the page translates them.
PROOF_EMPTY = gettext_noop("Proof of authority: the file is empty.")
PROOF_TOO_LARGE = gettext_noop("Proof of authority: at most 5 MB.")
PROOF_WRONG_TYPE = gettext_noop("Proof of authority: upload a PDF, JPEG or PNG file (a scan or a photo of it).")
# The person's open request of the same kind answers a representative's request too; it records one representative.
OPEN_HAS_OTHER_KIND = gettext_noop("Made by: the customer's open request of this kind was made through another kind of "
                                   "representative, and one request records one representative. Nothing was "
                                   "recorded: tell the data protection officer.")
OPEN_HAS_OTHER_NAME = gettext_noop("Representative's name: the customer's open request of this kind was made through "
                                   "another representative, and one request records one representative. Nothing was "
                                   "recorded: tell the data protection officer.")
OPEN_HAS_PROOF = gettext_noop("Proof of authority: the customer's open request of this kind already keeps a copy of "
                              "this representative's proof. Send the form again without the file.")
# What a request through a representative did to the open request that answers it (representative_open_check).
REPRESENTATIVE_ADDED = "representative_added"
REPRESENTATIVE_SAME = "representative_same"


def representative_proof_check(*, content: bytes) -> str:
    """The content type of an uploaded proof of authority, from its first bytes; a field error when it is empty,
    too large, or not a PDF, JPEG or PNG. Writes nothing."""
    if not content:
        raise ApplicationError(PROOF_EMPTY, extra={"field": "proof"})
    if len(content) > PROOF_MAX_BYTES:
        raise ApplicationError(PROOF_TOO_LARGE, extra={"field": "proof"})
    kind = file_type_detect(content, accepted=PROOF_TYPES)
    if kind is None:
        raise ApplicationError(PROOF_WRONG_TYPE, extra={"field": "proof"})
    return kind.content_type


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


def _same_name(kept: str | None, given: str) -> bool:
    """Spacing and case aside: support types what it hears or reads."""
    return kept is not None and " ".join(kept.split()).casefold() == " ".join(given.split()).casefold()


def representative_open_check(*, request: DataSubjectRequest, representative: tuple[str, str],
                              proof: bytes | None) -> str:
    """What a request through `representative` (dsr_representative_check's kind and name) adds to `request`, the
    person's open request of the same kind that answers it: REPRESENTATIVE_ADDED when it has none yet,
    REPRESENTATIVE_SAME when it has this one, "" when no representative is named. Another representative, or a proof
    where one is kept already, is a field error. Writes nothing."""
    agent_kind, agent_name = representative
    if not agent_kind:
        return ""
    if not request.representative_kind:
        return REPRESENTATIVE_ADDED
    if request.representative_kind != agent_kind:
        raise ApplicationError(OPEN_HAS_OTHER_KIND, extra={"field": "representative_kind"})
    if not _same_name(request.representative_name, agent_name):
        raise ApplicationError(OPEN_HAS_OTHER_NAME, extra={"field": "representative_name"})
    if proof is not None and RepresentativeProof.objects.filter(request_id=request.pk).exists():
        raise ApplicationError(OPEN_HAS_PROOF, extra={"field": "proof"})
    return REPRESENTATIVE_SAME


def representative_open_record(*, request: DataSubjectRequest, representative: tuple[str, str], outcome: str,
                               proof: bytes | None, actor: Any) -> None:
    """Record what representative_open_check found on the open request (locked by the caller, in its transaction):
    the representative when it had none, with when support checked their proof now; their proof when given. The
    audit entry has the kind's code, what happened and the count of proofs added, never the name."""
    if not outcome:
        return
    if outcome == REPRESENTATIVE_ADDED:
        request.representative_kind, request.representative_name = representative
        request.representative_checked_at = now()
        request.save(update_fields=["representative_kind", "representative_name", "representative_checked_at"])
    if proof is not None:
        representative_proof_store(request=request, content=proof, actor=actor)
    audit_record(actor=actor, action="dsr.representative_on_open", purpose=DSR_PURPOSE, target_type="dsr",
                 target_id=request.pk, extra={"representative": representative[0], "outcome": outcome,
                                              "proofs_added": int(proof is not None)})


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
