"""Each dispute of an invoice (Tw 11.5(2)): who raised it and when, what the customer said is wrong, and how billing
decided it. An invoice may be disputed again after a decision, within its window; every dispute stays, so neither the
customer's first words nor billing's answer to them are lost. `Invoice.dispute_reason` keeps the latest reason.

The reason is personal data (the customer's own words): never audited, logged or mailed; in the customer's data export;
redacted by erasure once the dispute is decided (`reason_erased_at`). The rows live as long as their invoice."""
from __future__ import annotations

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _, pgettext_lazy


class InvoiceDispute(models.Model):
    class RaisedBy(models.TextChoices):
        CUSTOMER = "customer", pgettext_lazy("dispute raised by", "the customer")
        BILLING = "billing", pgettext_lazy("dispute raised by", "billing staff")

    class Outcome(models.TextChoices):
        UNDECIDED = "", _("not decided yet")
        UPHELD = "upheld", _("upheld, the invoice is void")
        REJECTED = "rejected", _("rejected, the invoice stands")

    invoice = models.ForeignKey("traffic.Invoice", on_delete=models.CASCADE, related_name="disputes")
    raised_at = models.DateTimeField(default=now)
    raised_by = models.CharField(max_length=10, choices=RaisedBy.choices)
    reason = models.TextField(blank=True, default="")  # the customer's own words: never audited or logged
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, default="")
    reason_erased_at = models.DateTimeField(null=True, blank=True)  # erasure redacted the reason (GDPR art. 17)

    class Meta:
        constraints = [
            # One undecided dispute per invoice: a second is raised only after the first is decided.
            models.UniqueConstraint(fields=["invoice"], condition=models.Q(resolved_at__isnull=True),
                                    name="invoicedispute_one_open_uniq"),
        ]
