"""Billing staff correct the name and address a customer's invoices are made out to, from one of the
customer's invoices: the address that invoice was issued with beside the one on file now. Invoices
already issued keep theirs; a corrected invoice (void, then reissue) carries the address on file."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import selectors as account_selectors
from accounts.forms import BillingAddressForm
from accounts.services import billing_address
from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.privacy.purposes import Purpose

from ..selectors import invoices as invoice_selectors
from .access import require_billing
from .invoices import RETURN_FIELD, staff_invoices_return


class StaffBillingAddressForm(BillingAddressForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = _("The customer's name, or their company's registered name.")


def _consequences(invoice, *, contractor: bool) -> list[str]:
    numbers = {"number": invoice.number}
    return [
        gettext("The customer's next invoices are made out to this name and address.") if not contractor else
        gettext("The next invoices of every User of this Contractor are made out to this name and address."),
        gettext("Invoice %(number)s and every other invoice already issued keep the address they were issued "
                "with. To send a corrected invoice, void %(number)s and reissue it: the corrected one carries "
                "this address.") % numbers,
        gettext("The customer sees the new address on their invoice address page; the change is recorded in "
                "the audit log under your name."),
    ]


@login_required
def staff_invoice_address(request: HttpRequest, invoice_id: int) -> HttpResponse:
    require_billing(request)
    invoice = invoice_selectors.invoice_get(actor=request.user, purpose=Purpose.BILLING, invoice_id=invoice_id)
    customer = invoice.account
    address = account_selectors.billing_address_get(actor=request.user, purpose=Purpose.BILLING, user=customer)
    initial = {f: getattr(address, f) for f in billing_address.FIELDS} if address else None
    form = StaffBillingAddressForm(request.POST if request.method == "POST" else None, initial=initial)
    back = staff_invoices_return(request)
    here = f"{reverse('traffic:staff-invoice-address', args=[invoice.pk])}?{urlencode({RETURN_FIELD: back})}"
    if request.method == "POST" and form.is_valid():
        if not is_confirmed(request):
            return confirmation_page(
                request, title=gettext("Correct the invoice address of %(customer)s?") % {"customer": customer.username},
                consequences=_consequences(invoice, contractor=customer.contractor_id is not None),
                action_label=gettext("Yes, correct the address"), cancel_url=here)
        billing_address.billing_address_set(actor=request.user, user=customer, **form.cleaned_data)
        messages.success(request, gettext("The invoice address is corrected. To correct invoice %(number)s too, "
                                          "void it and reissue it.") % {"number": invoice.number})
        return redirect(here)
    return render(request, "traffic/staff_invoice_address.html", {
        "invoice": invoice, "customer": customer, "address": address, "form": form,
        "lines": account_selectors.billing_address_lines(address) if address else [],
        "issued_lines": [line for line in (invoice.customer_address or "").splitlines() if line], "back": back,
    }, status=400 if form.errors else 200)
