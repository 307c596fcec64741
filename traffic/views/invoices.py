"""Invoice pages: a customer's invoices and the itemised bill of one (called numbers masked unless
the owner asks), and billing staff's list of all invoices with one POST per state transition."""
from __future__ import annotations

from typing import Callable
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localdate
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.selectors import bill_itemisation_history
from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.exceptions import ApplicationError
from voipxs.money import money
from voipxs.privacy.purposes import Purpose

from ..invoice_pdf import pdf_response
from ..models import Invoice
from ..selectors import invoices as invoice_selectors
from ..selectors.calls import cdr_list
from ..services import invoice_disputes
from ..services import invoices as invoice_services
from .access import require_billing
from .invoice_dispute import dispute_context


@login_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    invoices = invoice_selectors.invoice_list(actor=request.user, purpose=Purpose.SELF_SERVICE, replacements=True)
    return render(request, "traffic/invoice_list.html", {"invoices": invoices})


@login_required
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The invoice and its itemised bill, if the owner's bills of its period are itemised (their contractor's
    setting, or their own, as it applied in that period). Called numbers are masked unless the owner asks for them (`?full=1`), which the selector
    records as an unmasked read."""
    invoice = invoice_selectors.invoice_get(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice_id=invoice_id)
    full = request.GET.get("full") == "1"
    # the bill keeps the setting of its period and of the party it was issued to (contractor or individual)
    history = bill_itemisation_history(user=request.user, invoice_contractor_id=invoice.contractor_id)
    setting = history.at(invoice.period)
    try:
        page = cdr_list(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice=invoice,
                        masked=not full, after=request.GET.get("after") or None, limit=100)
        status, error = 200, None
    except ApplicationError as exc:
        page, status, error = None, 400, exc.shown()
    return render(request, "traffic/invoice_detail.html", {
        "invoice": invoice, "lines": invoice_selectors.invoice_lines(invoice=invoice), "page": page, "full": full,
        "error": error, "query": "full=1" if full else "", "is_first_page": not request.GET.get("after"),
        "itemisation": setting.itemisation, "omits_free": setting.omit_free_numbers,
        "by_contractor": bool(invoice.contractor_id), **dispute_context(invoice),
    }, status=status)


@login_required
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice, pdf = invoice_selectors.invoice_pdf(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice_id=invoice_id)
    return pdf_response(invoice, pdf)


# --- billing staff -----------------------------------------------------------------------------------

RETURN_FIELD = "return"  # the list's page and search an action on it goes back to


def staff_invoices_return(request: HttpRequest) -> str:
    """The staff invoice list's address the action came from (`return`, posted or in the query), so that an action
    on page 3 of a search goes back there; anything else than this site's list (another host, another page, a
    scheme) gives the list's first page."""
    wanted = request.POST.get(RETURN_FIELD) or request.GET.get(RETURN_FIELD) or ""
    plain = reverse("traffic:staff-invoices")
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        if urlsplit(wanted).path == plain and not urlsplit(wanted).netloc:
            return wanted
    return plain


@login_required
def staff_invoices(request: HttpRequest) -> HttpResponse:
    require_billing(request)
    status, number = request.GET.get("status") or None, (request.GET.get("number") or "").strip()[:32] or None
    try:
        page = invoice_selectors.invoice_page(actor=request.user, purpose=Purpose.BILLING, status=status,
                                              number=number, after=request.GET.get("after") or None)
        code = 200
    except ApplicationError as exc:
        page, code = None, 400
        messages.error(request, exc.shown())
    query = request.GET.copy()
    query.pop("after", None)
    return render(request, "traffic/staff_invoices.html", {
        "page": page, "invoices": page.rows if page else [], "status": status or "", "number": number or "",
        "statuses": Invoice.Status.choices, "query": query.urlencode(), "is_first_page": not request.GET.get("after"),
        "here": request.get_full_path(), "here_query": urlencode({RETURN_FIELD: request.get_full_path()}),
        "today": invoice_disputes.amsterdam_today(),  # Dispute is offered while the window runs (dispute_refusal)
    }, status=code)


_TRANSITIONS = {
    "paid": (Purpose.BILLING, lambda invoice, actor: invoice_services.invoice_mark_paid(invoice=invoice, actor=actor),
             _("Invoice %(number)s marked paid.")),
    "dispute": (Purpose.DISPUTE, lambda invoice, actor: invoice_services.invoice_dispute(invoice=invoice, actor=actor),
                _("Invoice %(number)s is now disputed.")),
    "void": (Purpose.BILLING, lambda invoice, actor: invoice_services.invoice_void(invoice=invoice, actor=actor),
             _("Invoice %(number)s voided.")),
    "reject-dispute": (Purpose.DISPUTE, lambda invoice, actor: invoice_services.invoice_resolve_dispute(
        invoice=invoice, actor=actor, resolution="rejected"), _("Dispute on %(number)s rejected; the invoice stands.")),
    "uphold-dispute": (Purpose.DISPUTE, lambda invoice, actor: invoice_services.invoice_resolve_dispute(
        invoice=invoice, actor=actor, resolution="upheld"), _("Dispute on %(number)s upheld; the invoice is void.")),
    # The message names the new invoice: the service returns the corrected one, not the void one.
    "reissue": (Purpose.BILLING, lambda invoice, actor: invoice_services.invoice_reissue(invoice=invoice, actor=actor),
                _("Corrected invoice %(number)s made.")),
}


def _asking(title: str, lines: list[str], label: str) -> Callable[[Invoice], tuple[str, list[str], str]]:
    """The confirmation of a step whose sentences name only the invoice (its number and total): msgids marked with
    gettext_noop, translated when the page is made."""
    def page(invoice: Invoice) -> tuple[str, list[str], str]:
        numbers = {"number": invoice.number, "total": money(invoice.total)}
        return gettext(title) % numbers, [gettext(line) % numbers for line in lines], gettext(label)
    return page


_confirm_paid = _asking(gettext_noop("Mark invoice %(number)s paid?"), [
    gettext_noop("Invoice %(number)s (total %(total)s) is recorded as paid today and no longer counts as owed."),
    gettext_noop("Its calls are deleted by the retention purge once its dispute window has passed."),
    gettext_noop("A payment cannot be undone here; a wrong one needs a dispute or a void and a corrected invoice."),
], gettext_noop("Yes, mark it paid"))
_confirm_void = _asking(gettext_noop("Void invoice %(number)s?"), [
    gettext_noop("Invoice %(number)s (total %(total)s) stops counting as owed, for good: a void invoice "
                 "cannot be reopened."),
    gettext_noop("The customer sees it as void; you can then make a corrected invoice for the same month (Reissue)."),
], gettext_noop("Yes, void it"))
_confirm_reject = _asking(gettext_noop("Reject the dispute on invoice %(number)s?"), [
    gettext_noop("The customer is not right: invoice %(number)s (total %(total)s) stands and is owed again, "
                 "or stays paid."),
    gettext_noop("The decision is recorded as the dispute's outcome. The customer may still take it further (the "
                 "Geschillencommissie, a court): the invoice's calls are kept until that appeal period ends."),
], gettext_noop("Yes, reject the dispute"))

_confirm_reissue = _asking(gettext_noop("Reissue invoice %(number)s?"), [
    gettext_noop("A corrected invoice for the same month is made from the calls of void invoice %(number)s, at "
                 "their current prices, with a new due date and dispute window; the customer sees it among their "
                 "invoices."),
    gettext_noop("Fix what was wrong first (a tariff, a price, the invoice address): the corrected invoice cannot "
                 "be changed afterwards, only voided in its turn."),
], gettext_noop("Yes, make the corrected invoice"))


def _confirm_uphold(invoice: Invoice) -> tuple[str, list[str], str]:
    numbers = {"number": invoice.number, "total": money(invoice.total)}
    return (gettext("Uphold the dispute on invoice %(number)s?") % numbers, [
        gettext("The customer is right: invoice %(number)s (total %(total)s) is void and no longer owed, "
                "for good.") % numbers,
        gettext("The decision is recorded as the dispute's outcome. Make a corrected invoice for the same "
                "month with Reissue, after fixing what was wrong (a tariff, a price, the invoice address)."),
        gettext("Its calls are kept for the corrected invoice until %(day)s, when the dispute's appeal period "
                "ends; after that they are deleted and the month can no longer be billed.")
        % {"day": date_format(invoice_services.reissue_ends(invoice, decided_on=localdate()), "DATE_FORMAT")},
    ], gettext("Yes, uphold the dispute"))


def _confirm_dispute(invoice: Invoice) -> tuple[str, list[str], str]:
    numbers = {"number": invoice.number, "total": money(invoice.total), "days": invoice_services.dispute_appeal_days()}
    return (gettext("Open a dispute on invoice %(number)s?") % numbers, [
        gettext("Invoice %(number)s (total %(total)s) is marked disputed, as the customer sees it too, until you "
                "decide the dispute.") % numbers,
        gettext("Meanwhile its calls are kept until the dispute is decided, and for %(days)s days after the "
                "decision, while the customer can still take it further.") % numbers,
        gettext("A dispute cannot be withdrawn: only Reject dispute (the invoice stands) or Uphold dispute (it is "
                "void) ends it."),
    ], gettext("Yes, open the dispute"))


# The transitions that ask first, naming what will happen (voipxs/confirm.py).
_CONFIRMED = {"paid": _confirm_paid, "void": _confirm_void, "uphold-dispute": _confirm_uphold,
              "reject-dispute": _confirm_reject, "reissue": _confirm_reissue, "dispute": _confirm_dispute}
# The rule a transition's service enforces, checked before asking: a question whose answer would be refused is not
# asked (the msgid of the refusal, or None). The service checks it again, under its lock, when confirmed.
_REFUSALS = {"dispute": lambda invoice: invoice_disputes.dispute_refusal(
    invoice, today=invoice_disputes.amsterdam_today())}


@login_required
@require_POST
def staff_invoice_action(request: HttpRequest, invoice_id: int, action: str) -> HttpResponse:
    require_billing(request)
    if action not in _TRANSITIONS:
        raise Http404
    purpose, service, message = _TRANSITIONS[action]
    invoice = invoice_selectors.invoice_get(actor=request.user, purpose=purpose, invoice_id=invoice_id)
    refusal = _REFUSALS[action](invoice) if action in _REFUSALS else None
    if refusal:
        messages.error(request, gettext(refusal))
        return redirect(staff_invoices_return(request))
    if action in _CONFIRMED and not is_confirmed(request):
        title, consequences, label = _CONFIRMED[action](invoice)
        return confirmation_page(request, title=title, consequences=consequences, action_label=label,
                                 cancel_url=staff_invoices_return(request))
    try:
        invoice = service(invoice, request.user)
        messages.success(request, message % {"number": invoice.number})
    except ApplicationError as exc:
        messages.error(request, exc.shown())
    return redirect(staff_invoices_return(request))
