"""A customer disputes their own invoice from its page: what is wrong (required), a confirmation page naming what
happens to the invoice and its calls, then the dispute (traffic.services.invoice_disputes). Another customer's invoice
is not found (404); a refusal (void, already disputed, window over, no reason) is shown on the dispute form (400)."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose

from ..models import Invoice
from ..selectors import invoices as invoice_selectors
from ..services import invoice_disputes
from ..services.invoices import dispute_appeal_days


class InvoiceDisputeForm(forms.Form):
    reason = forms.CharField(label=_("What is wrong with this invoice?"), max_length=invoice_disputes.REASON_MAX_LENGTH,
                             strip=True, widget=forms.Textarea(attrs={"rows": 5}),
                             help_text=_("For example a call you did not make, a wrong price or a wrong address. "
                                         "At most 2000 characters."),
                             error_messages={"required": _("Say what is wrong with this invoice.")})


def dispute_context(invoice: Invoice, form: InvoiceDisputeForm | None = None) -> dict:
    """What the invoice page and the dispute page need: the form, or why no dispute can be opened now."""
    refusal = invoice_disputes.dispute_refusal(invoice, today=invoice_disputes.amsterdam_today())
    return {"dispute_form": form or InvoiceDisputeForm(), "dispute_refusal": gettext(refusal) if refusal else "",
            "earlier_disputes": invoice_selectors.invoice_disputes_decided(invoice=invoice)}


def _consequences(invoice: Invoice) -> tuple[str, list[str], str]:
    numbers = {"number": invoice.number, "days": dispute_appeal_days()}
    return (gettext("Dispute invoice %(number)s?") % numbers, [
        gettext("Invoice %(number)s is marked disputed and billing staff are told; they read what you wrote and "
                "answer you.") % numbers,
        gettext("The calls of this invoice are kept until the dispute is decided, and after the decision for "
                "%(days)s days, the period in which you can still take it further (for example to the "
                "Geschillencommissie Telecommunicatie).") % numbers,
        gettext("You cannot withdraw a dispute here; billing staff decide it."),
    ], gettext("Yes, dispute this invoice"))


@login_required
@require_POST
def invoice_dispute(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = invoice_selectors.invoice_get(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice_id=invoice_id)
    form = InvoiceDisputeForm(request.POST)
    context = dispute_context(invoice, form)
    if context["dispute_refusal"] or not form.is_valid():
        return render(request, "traffic/invoice_dispute.html", {"invoice": invoice, **context}, status=400)
    if not is_confirmed(request):
        title, consequences, label = _consequences(invoice)
        return confirmation_page(request, title=title, consequences=consequences, action_label=label,
                                 cancel_url=reverse("traffic:invoice", args=[invoice.pk]))
    try:
        invoice = invoice_disputes.invoice_customer_dispute(invoice=invoice, actor=request.user,
                                                            reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        exc.add_to(form)
        return render(request, "traffic/invoice_dispute.html", {"invoice": invoice, **context}, status=400)
    messages.success(request, gettext("Invoice %(number)s is now disputed. Billing staff will answer you; its calls "
                                      "are kept until the dispute is decided.") % {"number": invoice.number})
    return redirect("traffic:invoice", invoice.pk)
