"""The recipients to tell of a rectification, erasure or restriction (GDPR art. 19), one row per recipient of the
person's data and per request carried out. Imported at the end of dsr/models.py, so it is an accounts model."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from .models import DataSubjectRequest


class RecipientNotification(models.Model):
    """A recipient to whom the person's data was disclosed before `request` was carried out (a disclosure the person
    may know of: never one under a running secrecy order or a decision not to tell them), and whether and how the
    DPO told that recipient of the rectification, erasure or restriction. Names the recipient (a body), never the
    person's data."""

    class How(models.TextChoices):
        EMAIL = "email", _("by e-mail")
        LETTER = "letter", _("by letter")
        PHONE = "phone", _("by phone")
        PORTAL = "portal", _("through the recipient's portal")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="recipient_notifications",
                                verbose_name=_("request"))
    # which disclosure, e.g. "disclosure:12": listed once a request
    recipient_key = models.CharField(_("recipient key"), max_length=64)
    recipient = models.CharField(_("recipient"), max_length=200)  # the body's name
    recipient_kind = models.CharField(_("kind of recipient"), max_length=40, blank=True)  # e.g. police, court
    disclosed_at = models.DateTimeField(_("disclosed at"))
    listed_at = models.DateTimeField(_("listed at"), default=now)
    notified_on = models.DateField(_("notified on"), null=True, blank=True)
    how = models.CharField(_("how"), max_length=10, choices=How.choices, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))

    class Meta:
        verbose_name, verbose_name_plural = _("recipient notification"), _("recipient notifications")
        constraints = [models.UniqueConstraint(fields=["request", "recipient_key"], name="recipient_once_per_request")]
        ordering = ["disclosed_at", "pk"]

    def __str__(self) -> str:
        return f"recipient notification #{self.pk}"
