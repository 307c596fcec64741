"""Click-to-call (issue 12): the prefixes the provider will not set up calls to, and a short record of each
set-up. A set-up record holds the chosen number (encrypted), the own number that rang first and the time;
nothing of the page it was clicked on (no URL, title, referrer, user agent: the API never reads them)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.fields import EncryptedTextField


class BlockedPrefix(models.Model):
    """An E.164 prefix (digits without '+') that click-to-call refuses; kept by billing staff."""

    class Reason(models.TextChoices):
        PREMIUM_RATE = "premium_rate", _("premium-rate number")
        SHARED_COST = "shared_cost", _("shared-cost or information number")
        SATELLITE = "satellite", _("satellite or high-cost destination")
        FRAUD = "fraud", _("destination with known fraud")
        OTHER = "other", _("not allowed by the provider")

    prefix = models.CharField(_("prefix"), max_length=15, unique=True,
                              help_text=_("E.164 digits without '+', e.g. 31900 or 881"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, default=Reason.PREMIUM_RATE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta:
        app_label = "traffic"
        ordering = ("prefix",)
        verbose_name = _("blocked click-to-call prefix")
        verbose_name_plural = _("blocked click-to-call prefixes")

    def __str__(self) -> str:
        return f"+{self.prefix}"


class CallSetup(models.Model):
    """One call set-up that the switch accepted. The call itself arrives later as a CDR."""

    class Via(models.TextChoices):
        EXTENSION = "extension", _("browser extension")
        PORTAL = "portal", _("portal")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey("accounts.CallSetupToken", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    own_number = models.ForeignKey("accounts.PhoneNumber", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    number = EncryptedTextField(_("called number (E.164)"))
    via = models.CharField(max_length=10, choices=Via.choices)
    backend = models.CharField(max_length=20)
    switch_reference = models.CharField(max_length=64, blank=True)  # ActionID / Job-UUID, for support
    created_at = models.DateTimeField(default=now)

    class Meta:
        app_label = "traffic"
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["user", "created_at"], name="callsetup_user_time_idx"),
                   models.Index(fields=["created_at"], name="callsetup_time_idx")]

    def __str__(self) -> str:
        return f"call set-up #{self.pk}"
