"""GDPR art. 21(1) objections: one row per purpose a data-subject request of kind "objection" names, and the DPO's
balancing record and outcome for it. Imported at the end of accounts/models.py (app label "accounts").

An upheld objection is the account's marker for that purpose: the selectors of that purpose leave the account out
(accounts/dsr/objection.py `objected_user_ids`). The person's grounds are the request's `details`, as every
request's own words; the balancing record is free text about the person and stays here, never in the audit log.
Both go when the account is erased or anonymised (`texts_erased_at`); the decision's existence and outcome stay."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.purposes import Purpose

from .models import DataSubjectRequest


class Objection(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "", _("Pending")
        UPHELD = "upheld", _("Upheld: the processing for this purpose stops")
        REJECTED_COMPELLING = "rejected_compelling", _("Rejected: compelling legitimate grounds (art. 21(1))")
        REJECTED_LEGAL_CLAIMS = "rejected_legal_claims", _("Rejected: needed for legal claims (art. 21(1))")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="objections",
                                verbose_name=_("data-subject request"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="objections",
                             verbose_name=_("account"))
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    # The balancing record (art. 21(1)): what the controller relies on, what the person's situation weighs, why the
    # one outweighs the other. Required for every decision (accounts/dsr/objection.py).
    legitimate_interest = models.TextField(_("legitimate interest relied on"), blank=True)
    person_interests = models.TextField(_("the person's interests and grounds"), blank=True)
    reasons = models.TextField(_("balancing outcome and reasons"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    # When the free text went with the erased or anonymised account (GDPR art. 17; dsr/objection.py
    # `objection_texts_erase`): the balancing record here, and the person's grounds and the reply on the request.
    # Purpose, outcome, decision time and decider stay as the record that the objection was decided.
    texts_erased_at = models.DateTimeField(_("texts erased at"), null=True, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("objection"), _("Objections")
        constraints = [
            models.UniqueConstraint(fields=["request", "purpose"], name="objection_request_purpose_uniq"),
            # No decision without its time and its balancing record, unless that record went with the erased
            # account (then it says when).
            models.CheckConstraint(
                condition=models.Q(outcome="", decided_at__isnull=True)
                | (~models.Q(outcome="") & models.Q(decided_at__isnull=False)
                   & ((~models.Q(legitimate_interest="") & ~models.Q(person_interests="") & ~models.Q(reasons=""))
                      | models.Q(texts_erased_at__isnull=False))),
                name="objection_decided_balanced"),
            # Erased means erased: no text beside the mark.
            models.CheckConstraint(
                condition=models.Q(texts_erased_at__isnull=True)
                | models.Q(legitimate_interest="", person_interests="", reasons=""),
                name="objection_erased_no_text"),
        ]
        indexes = [models.Index(fields=["purpose", "outcome"], name="objection_purpose_outcome_idx")]
        ordering = ["request_id", "pk"]

    def __str__(self) -> str:
        return f"objection #{self.pk} ({self.purpose})"
