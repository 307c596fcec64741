from __future__ import annotations

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One append-only audit record, linked into a hash chain by the sealer (voipxs/privacy/audit.py).

    Holds pseudonymous ids only (`crypto.pseudonym`), never a phone number, e-mail or name, so an
    erasure never has to touch this table and the chain never breaks. The database refuses UPDATE
    (except the sealer filling seq/prev_hash/entry_hash once) and DELETE (migration 0002).
    """

    class Outcome(models.TextChoices):
        OK = "ok"
        REFUSED = "refused"

    created_at = models.DateTimeField(_("created at"), default=now)
    actor = models.CharField(_("actor"), max_length=64)  # "u_…" pseudonym, or "system:<job>"
    action = models.CharField(_("Action"), max_length=64)  # "calls.list", "disclosure.approve", ...
    purpose = models.CharField(_("purpose"), max_length=32, blank=True)
    target_type = models.CharField(_("target type"), max_length=32, blank=True)
    # pseudonym or plain pk of a non-person object
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.OK)
    extra = models.JSONField(_("Details"), default=dict, blank=True)  # counts, states, ids; never personal data
    # Filled once by the sealer, in chain order.
    seq = models.BigIntegerField(_("sequence number"), null=True, blank=True, unique=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    entry_hash = models.CharField(_("entry hash"), max_length=64, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("audit entry"), _("audit entries")
        indexes = [
            # The sealer's "what is not linked yet" scan: a partial index stays tiny.
            models.Index(fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)),
            models.Index(fields=["actor", "created_at"], name="audit_actor_time_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.outcome}"


class AuditAnchor(models.Model):
    """Where the audit chain starts once its oldest entries have been trimmed (retention, 5 years).

    Written BEFORE any entry is removed: it names the last removed entry (`up_to_seq`) and that entry's
    hash, so verification starts here instead of at GENESIS. `mac` is an HMAC under a key derived like
    the chain key (crypto.audit_anchor_key), so a row forged or edited in the database does not verify.
    The database refuses UPDATE and DELETE on anchors, and lets entries be deleted only up to the highest
    anchor (migration 0004).
    """

    up_to_seq = models.BigIntegerField(_("up to sequence number"), unique=True)
    entry_hash = models.CharField(_("entry hash"), max_length=64)  # entry_hash of the entry with seq == up_to_seq
    # entries this anchor lets go (seq after the previous anchor)
    removed = models.BigIntegerField(_("entries removed"), default=0)
    cutoff = models.DateTimeField(_("Cutoff"))  # entries older than this were due
    created_at = models.DateTimeField(_("created at"), default=now)
    mac = models.CharField(_("MAC"), max_length=64)

    class Meta:
        verbose_name, verbose_name_plural = _("audit anchor"), _("audit anchors")
        ordering = ["-up_to_seq"]

    def __str__(self) -> str:
        return f"anchor up to seq {self.up_to_seq}"
