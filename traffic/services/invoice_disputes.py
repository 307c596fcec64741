"""A customer disputes their own invoice (Tw 11.5(2)): the same rules as billing's `invoice_dispute` (an open or
paid invoice, until its dispute window's last Amsterdam day), plus what they say is wrong.

The reason is personal data: it is kept on the invoice for billing staff to read where they resolve the dispute and
in the customer's data export, never in the audit entry, a log line, a task argument or the mail to billing (which
names the invoice number only)."""
from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils.timezone import localdate, now
from django.utils.translation import gettext, gettext_noop

from accounts.services.roles import staff_role_mail
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Role

from ..models import Invoice, InvoiceDispute
from .invoices import invoice_dispute

REASON_MAX_LENGTH = 2000
REASON_MISSING = gettext_noop("Say what is wrong with this invoice.")
REASON_TOO_LONG = gettext_noop("Keep what is wrong to at most 2000 characters.")


def amsterdam_today() -> date:
    """The day of the dispute window as the invoice page shows it (Amsterdam's, not UTC's)."""
    return localdate(now())


def _billing_mail(number: str) -> tuple[str, str]:
    """Billing's notice, in the active language: the invoice number only, never the customer's reason."""
    return (gettext("[VoIPXS] Invoice %(number)s disputed by the customer") % {"number": number},
            gettext("The customer disputed invoice %(number)s. Its calls are kept until the dispute is decided. Read "
                    "what they say is wrong and decide the dispute on the staff invoice page.") % {"number": number})


@transaction.atomic
def invoice_customer_dispute(*, invoice: Invoice, actor: Any, reason: str, today: date | None = None) -> Invoice:
    """The invoice's own account disputes it. Anyone else is refused as if the invoice did not exist (404), as the
    customer's invoice pages do. Audited by `invoice_dispute` ("invoice.dispute", purpose dispute), without the
    reason; billing staff are mailed once the dispute is committed."""
    if getattr(actor, "pk", None) is None or invoice.account_id != actor.pk:
        raise Http404
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(REASON_MISSING, {"field": "reason"})
    if len(reason) > REASON_MAX_LENGTH:
        raise ApplicationError(REASON_TOO_LONG, {"field": "reason"})
    invoice = invoice_dispute(invoice=invoice, actor=actor, today=today or amsterdam_today(), reason=reason,
                              raised_by=InvoiceDispute.RaisedBy.CUSTOMER)
    number = invoice.number
    transaction.on_commit(lambda: staff_role_mail(role=Role.BILLING, compose=lambda: _billing_mail(number)))
    return invoice


def dispute_refusal(invoice: Invoice, *, today: date) -> str | None:
    """Why the customer cannot dispute the invoice now (a msgid, translated by the caller), or None if they can."""
    if invoice.status not in (Invoice.Status.OPEN, Invoice.Status.PAID):
        return gettext_noop("This invoice is already disputed.") if invoice.status == Invoice.Status.DISPUTED \
            else gettext_noop("A void invoice cannot be disputed.")
    if today > invoice.dispute_window_ends:
        return gettext_noop("The dispute window of this invoice has ended.")
    return None
