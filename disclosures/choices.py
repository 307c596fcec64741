"""Two of a disclosure request's choices (disclosures/models.py imports them, and so do the modules that used them
from there): how a request ended, and how far one with a statutory answer time has used it."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    FULL = "full", _("Full")
    PARTIAL = "partial", _("Partial")
    CAPPED = "capped", _("Capped at the authority's request")  # fewer records than matched: the maxHits it set
    NO_DATA = "no_data", _("No data")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    PRESERVED = "preserved", _("Preserved (no hand-over)")
    CONVERTED = "converted", _("Converted into a production order")


class SlaStage(models.TextChoices):
    """How far a request with a statutory answer time (EPOC 10 days, emergency 8 hours) has used it."""

    NONE = "", _("—")
    HALF = "50", _("half the time used")
    # xgettext:no-python-format
    EIGHTY = "80", _("80 % of the time used")
    OVERDUE = "100", _("overdue")
