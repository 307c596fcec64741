from __future__ import annotations

from django.db import models
from django.utils.timezone import now


class AuditEntry(models.Model):
    """One append-only audit record, linked into a hash chain by the sealer (voipxs/audit.py).

    Holds pseudonymous ids only (`crypto.pseudonym`), never a phone number, e-mail or name, so an
    erasure never has to touch this table and the chain never breaks. The database refuses UPDATE
    (except the sealer filling seq/prev_hash/entry_hash once) and DELETE (migration 0002).
    """

    class Outcome(models.TextChoices):
        OK = "ok"
        REFUSED = "refused"

    created_at = models.DateTimeField(default=now)
    actor = models.CharField(max_length=64)  # "u_…" pseudonym, or "system:<job>"
    action = models.CharField(max_length=64)  # "calls.list", "disclosure.approve", ...
    purpose = models.CharField(max_length=32, blank=True)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)  # pseudonym or plain pk of a non-person object
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OK)
    extra = models.JSONField(default=dict, blank=True)  # counts, states, ids; never personal data
    # Filled once by the sealer, in chain order.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            # The sealer's "what is not linked yet" scan: a partial index stays tiny.
            models.Index(fields=["id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)),
            models.Index(fields=["actor", "created_at"], name="audit_actor_time_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.outcome}"
