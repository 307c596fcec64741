"""The subscriber's name and address (versioned, encrypted) and the CIOT sync log (counts only)."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.fields import EncryptedTextField


class SubscriberDetails(models.Model):
    """The name and address of a user for [valid_from, valid_to). A change closes the current version and
    adds one (subscriber_details_set), so the CIOT file can say who held a number at any past moment."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="subscriber_details",
                             verbose_name=_("user"))
    name = EncryptedTextField(_("name"))
    street = EncryptedTextField(_("street"))
    house_number = EncryptedTextField(_("house number and addition"))
    postcode = EncryptedTextField(_("postcode"))
    town = EncryptedTextField(_("town"))
    valid_from = models.DateTimeField(_("valid from"), default=now)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)  # exclusive; None = current

    class Meta:
        verbose_name, verbose_name_plural = _("subscriber details"), _("subscriber details")
        indexes = [models.Index(fields=["user", "valid_from"], name="subscriber_user_from_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                                   name="subscriber_period_positive"),
            models.UniqueConstraint(fields=["user"], condition=Q(valid_to__isnull=True),
                                    name="subscriber_one_current_per_user"),
        ]

    def __str__(self) -> str:
        return f"subscriber details #{self.pk}"


class CiotSyncRun(models.Model):
    """One delivery of the subscriber file. Counts, a hash and an error class only: no personal data."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    started_at = models.DateTimeField(default=now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    adapter = models.CharField(max_length=100)
    records = models.PositiveIntegerField(default=0)
    current = models.PositiveIntegerField(default=0)  # records whose number is held now
    incomplete = models.PositiveIntegerField(default=0)  # number periods without a name and address
    sha256 = models.CharField(max_length=64, blank=True)
    changed = models.BooleanField(default=False)  # differs from the last successful run's file
    error = models.CharField(max_length=200, blank=True)  # the exception class and a fixed message
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-started_at", "-pk")
        indexes = [models.Index(fields=["status", "-started_at"], name="ciotrun_status_started_idx")]

    def __str__(self) -> str:
        return f"CIOT sync #{self.pk} ({self.status})"
