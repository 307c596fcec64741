"""The masking list's model; services/masking.py writes it, selectors/masking.py reads it."""
from __future__ import annotations

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.fields import BlindIndexField, EncryptedTextField
from voipxs.privacy.phone import normalize_masking_number


class MaskedNumber(models.Model):
    """The national masking list (Bude art. 4.2): a number (a helpline, or one another provider asked
    us to mask) never shown in full on a bill, for calls from `valid_from` on (the next billing period
    after it was listed) and, once it leaves the list, before `valid_until` (the next billing period
    after it was taken off): calls made while it was listed stay masked on every bill."""

    number = EncryptedTextField(_("number (E.164)"))  # or a short number as dialled (113, 116111)
    number_index = BlindIndexField(source="number", domain="phone", normalizer=normalize_masking_number, unique=True)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
