"""The breach register's notifications (accounts/dsr/breaches.py). Imported at the end of dsr/models.py, so it is an
accounts model."""
from __future__ import annotations

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from .models import BreachIncident


class BreachNotification(models.Model):
    """That the authority, the ACM or the affected users were told of a breach incident: when, at which stage, under
    which reference. A record made in error is withdrawn with a reason, never changed or deleted: the register is
    an accountability record (GDPR art. 33(5)); the incident's clocks count only the records that stand."""

    class Recipient(models.TextChoices):
        AUTHORITY = "authority", _("Dutch DPA (Autoriteit Persoonsgegevens)")
        USERS = "users", _("Affected users")
        ACM = "acm", _("ACM (telecom regulator)")

    class Stage(models.TextChoices):
        INITIAL = "initial", _("Initial notification")
        FOLLOW_UP = "follow_up", _("Follow-up")
        FINAL = "final", _("Final")

    incident = models.ForeignKey(BreachIncident, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.CharField(max_length=10, choices=Recipient.choices)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.INITIAL)
    sent_at = models.DateTimeField(default=now)
    reference = models.CharField(max_length=120, blank=True)
    note = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["sent_at"]
