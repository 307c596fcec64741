"""The support desk's pages (/support/): find a customer, their card, and the four things support does.
Thin: accounts/support/selectors.py and services.py do the work."""
from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.exceptions import ApplicationError
from voipxs.mail import mail_address
from voipxs.privacy.purposes import Role, has_role

from ..dsr.models import DataSubjectRequest
from ..dsr.objection_views import ObjectionPurposesField
from ..dsr.representative import PROOF_MAX_BYTES, PROOF_TOO_LARGE, REPRESENTATIVE_ADDED, REPRESENTATIVE_SAME
from ..dsr.services import OPENED
from ..forms import ItemisationForm
from ..selectors import itemisation_history, next_billing_period
from ..models import Itemisation, User
from .panels import customer_panels
from .selectors import support_customer_card, support_customer_find, support_customer_get
from .services import (
    RequestChannel, ResetReason, support_itemisation_check, support_itemisation_set, support_lockout_clear,
    support_request_open, support_two_factor_reset, support_two_factor_reset_check,
)

SUPPORT_ONLY = "Only support staff use the support desk."


class SearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Phone number or e-mail address"), max_length=254,
                        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "email", "spellcheck": "false"}))


class ResetForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=[("", "---------"), *ResetReason.choices])
    ticket = forms.CharField(label=gettext_lazy("Ticket reference (optional)"), max_length=60, required=False,
                             help_text=gettext_lazy("No phone number or e-mail address: it is kept in the audit log."))


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("The customer asks for"),
                             choices=[c for c in DataSubjectRequest.Kind.choices if c[0] != DataSubjectRequest.Kind.ERASURE])
    purposes = ObjectionPurposesField(label=gettext_lazy("For an objection: the purposes the customer objects to"),
                                      required=False)
    details = forms.CharField(label=gettext_lazy("Details in the customer's words (what is wrong, what to restrict)"),
                              required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    # A request made through a representative (services.support_request_open checks the three together).
    representative_kind = forms.ChoiceField(
        label=gettext_lazy("Made by"), required=False,
        choices=[("", gettext_lazy("The customer themselves")), *DataSubjectRequest.RepresentativeKind.choices],
        help_text=gettext_lazy("A representative: a lawyer, the legal guardian of a minor, someone with a power of "
                               "attorney. The answer still goes to the customer's account (Your privacy), not to "
                               "the representative."))
    representative_name = forms.CharField(
        label=gettext_lazy("Representative's name"), required=False, max_length=200,
        help_text=gettext_lazy("Only for a request made through a representative. Kept encrypted; only the data "
                               "protection officer sees it."))
    authority_checked = forms.BooleanField(
        label=gettext_lazy("I checked the representative's proof of authority"), required=False,
        help_text=gettext_lazy("Required for a request made through a representative: the power of attorney, the "
                               "proof of guardianship or the lawyer's mandate, and that it covers this request."))
    proof = forms.FileField(
        label=gettext_lazy("Proof of authority (optional)"), required=False,
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        help_text=gettext_lazy("A scan or photo of the proof you checked: PDF, JPEG or PNG, at most 5 MB. Kept "
                               "encrypted; only the data protection officer can open it. It is deleted with the "
                               "representative's name when the customer's account is erased."))

    def clean_proof(self) -> bytes | None:
        """The file's bytes for the service (which checks its type); one over the limit was never kept
        (_ProofUploadHandler), only its size."""
        upload = self.cleaned_data.get("proof")
        if not upload:
            return None
        if upload.size > PROOF_MAX_BYTES:
            raise forms.ValidationError(_(PROOF_TOO_LARGE))
        return upload.read()


class _ProofUploadHandler(FileUploadHandler):
    """Keeps an uploaded proof of authority in memory only, never in a temporary file where it would lie on disk in
    plain text, and at most PROOF_MAX_BYTES for the request's files together: a file past that arrives empty with
    its real size, which RequestForm refuses as too large."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self._room = PROOF_MAX_BYTES

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._buffer, self._fits = io.BytesIO(), True

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self._fits and len(raw_data) <= self._room:
            self._buffer.write(raw_data)
            self._room -= len(raw_data)
        else:
            self._fits = False
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        content = self._buffer if self._fits else io.BytesIO()
        content.seek(0)
        return InMemoryUploadedFile(content, self.field_name, self.file_name, self.content_type, file_size,
                                    self.charset, self.content_type_extra)


class ItemisationChangeForm(ItemisationForm):
    """The customer's choice of itemised bills, made by support at their request (services.support_itemisation_set)."""

    channel = forms.ChoiceField(label=gettext_lazy("The customer asked"), choices=RequestChannel.choices,
                                widget=forms.RadioSelect)
    ticket = forms.CharField(label=gettext_lazy("Ticket reference (optional)"), max_length=60, required=False,
                             help_text=gettext_lazy("No phone number or e-mail address: it is kept in the audit log."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["itemisation"].label = gettext_lazy("List of calls on the customer's bills")


def _require_support(request: HttpRequest) -> None:
    if not has_role(request.user, Role.SUPPORT):
        raise PermissionDenied(SUPPORT_ONLY)


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    _require_support(request)
    form, results, status = SearchForm(request.GET or None), None, 200
    if form.is_bound:
        if form.is_valid():
            try:
                results = support_customer_find(actor=request.user, query=form.cleaned_data["q"])
            except ApplicationError as exc:
                exc.add_to(form)
        if form.errors:
            status = 400
    return render(request, "support/search.html", {"form": form, "results": results}, status=status)


def _card(request: HttpRequest, pk: int, *, reset_form: ResetForm | None = None,
          request_form: RequestForm | None = None, itemisation_form: ItemisationChangeForm | None = None,
          status: int = 200) -> HttpResponse:
    card = support_customer_card(actor=request.user, user_id=pk)
    history = itemisation_history(user=card.user)
    current, pending = history.current(), history.pending()
    chosen = pending[1] if pending else current  # the form starts from the latest choice, pending or not
    return render(request, "support/customer.html", {
        "card": card, "itemisation": current, "pending": pending and {"from": pending[0], "setting": pending[1]},
        "reset_form": reset_form or ResetForm(), "request_form": request_form or RequestForm(),
        "panels": customer_panels(actor=request.user, user=card.user),  # e.g. click-to-call set-ups (traffic)
        "itemisation_form": itemisation_form or ItemisationChangeForm(initial={
            "itemisation": chosen.itemisation, "list_free_numbers": not chosen.omit_free_numbers}),
    }, status=status)


@login_required
@require_GET
def customer(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    return _card(request, pk)


@login_required
@require_POST
def unlock(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    user = support_customer_get(actor=request.user, user_id=pk)
    removed = support_lockout_clear(actor=request.user, user=user)
    messages.success(request, _("Sign-in unlocked: the customer can try again now.") if removed
                     else _("There was no lockout; nothing changed."))
    return redirect("support:customer", pk=pk)


@login_required
@require_POST
def two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    user = support_customer_get(actor=request.user, user_id=pk)
    form = ResetForm(request.POST)
    if form.is_valid():
        try:
            support_two_factor_reset_check(user=user, **form.cleaned_data)
            if not is_confirmed(request):
                return _two_factor_reset_confirm(request, user, form.cleaned_data["reason"])
            support_two_factor_reset(actor=request.user, user=user, **form.cleaned_data)
        except ApplicationError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("Second factor reset. The customer signs in with their password and can "
                                        "set up an authenticator again under Sign-in and security."))
            return redirect("support:customer", pk=pk)
    return _card(request, pk, reset_form=form, status=400)


def _two_factor_reset_confirm(request: HttpRequest, user: User, reason: str) -> HttpResponse:
    return confirmation_page(
        request, title=_("Reset this customer's second factor?"),
        consequences=[_("Their authenticator and recovery codes stop working at once: until they set up a new "
                        "authenticator, their password alone signs them in."),
                      _("Only do this because the customer asked for it themselves."),
                      _("The reason is kept in the audit log: %(reason)s.") % {"reason": ResetReason(reason).label}],
        action_label=_("Yes, reset the second factor"), cancel_url=reverse("support:customer", kwargs={"pk": user.pk}))


@csrf_exempt  # only until the upload handler is set: _open_request checks the CSRF token (Django's documented way)
def open_request(request: HttpRequest, pk: int) -> HttpResponse:
    request.upload_handlers = [_ProofUploadHandler(request)]
    return _open_request(request, pk)


@csrf_protect
@login_required
@require_POST
def _open_request(request: HttpRequest, pk: int) -> HttpResponse:
    _require_support(request)
    user = support_customer_get(actor=request.user, user_id=pk)
    form = RequestForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            req = support_request_open(actor=request.user, user=user, **form.cleaned_data)
        except ApplicationError as exc:
            exc.add_to(form)
        else:
            _request_opened_message(request, req, proof_added=form.cleaned_data["proof"] is not None)
            return redirect("support:customer", pk=pk)
    return _card(request, pk, request_form=form, status=400)


def _request_opened_message(request: HttpRequest, req: DataSubjectRequest, *, proof_added: bool) -> None:
    """What support_request_open did: opened a request, or answered with the customer's open one of the same kind
    (its stuck export sent again), then saying whether the representative and their proof were recorded on it."""
    opened = {"pk": req.pk, "date": date_format(localtime(req.deadline), "DATE_FORMAT")}
    if req.open_outcome == OPENED:
        messages.success(request, _("Request #%(pk)s opened for the customer, made through their representative; "
                                    "it is due by %(date)s. The answer goes to the customer's account: they see "
                                    "it under Your privacy.") % opened if req.representative_kind else
                         _("Request #%(pk)s opened for the customer; it is due by %(date)s. The customer "
                           "sees it under Your privacy.") % opened)
        return
    told = [_("No new request was opened: the customer already had request #%(pk)s of this kind open, due by "
              "%(date)s. Its export is being prepared again.") % opened]
    if req.open_outcome == REPRESENTATIVE_ADDED:
        told.append(_("The representative is now recorded on that request."))
    elif req.open_outcome == REPRESENTATIVE_SAME:
        told.append(_("That request was already recorded as made through this representative."))
    if proof_added:
        told.append(_("Their proof of authority is kept with it."))
    messages.warning(request, " ".join(told))


def _itemisation_confirm(request: HttpRequest, user: User, itemisation: str,
                         omit_free_numbers: bool) -> HttpResponse:
    by_email = bool(mail_address(user.email))  # the notice's rule: only spaces is no address
    told = (_("The customer is told by e-mail that support made this change at their request.") if by_email
            else _("The customer has no e-mail address and is not told by e-mail: tell them yourself."))
    return confirmation_page(
        request, title=_("Change this customer's itemised bills?"),
        consequences=[_("Their bills from %(month)s on show: %(choice)s.") % {
                          "choice": Itemisation(itemisation).label,
                          "month": date_format(next_billing_period(), "YEAR_MONTH_FORMAT")},
                      _("Calls to free and helpline numbers are left off.") if omit_free_numbers
                      else _("Calls to free and helpline numbers are listed."),
                      _("The bills of this month and earlier months stay as they were."),
                      _("Only do this because the customer asked for it themselves."), told],
        action_label=_("Yes, change the itemised bills"),
        cancel_url=reverse("support:customer", kwargs={"pk": user.pk}) + "#itemisation")


@login_required
@require_POST
def itemisation(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer's itemised bills, changed at their request (phone, letter): checked, then confirmed, then
    changed; the customer is e-mailed (services.support_itemisation_set)."""
    _require_support(request)
    user = support_customer_get(actor=request.user, user_id=pk)
    form = ItemisationChangeForm(request.POST)
    if form.is_valid():
        try:
            arguments = form.service_arguments()
            support_itemisation_check(user=user, **arguments)
            if not is_confirmed(request):
                return _itemisation_confirm(request, user, arguments["itemisation"], arguments["omit_free_numbers"])
            changed = support_itemisation_set(actor=request.user, user=user, **arguments)
        except ApplicationError as exc:
            exc.add_to(form)
        else:
            label = Itemisation(form.cleaned_data["itemisation"]).label
            messages.success(request, _("Itemised bills changed to: %(choice)s, from the bills of %(month)s on.") % {
                "choice": label, "month": date_format(next_billing_period(), "YEAR_MONTH_FORMAT")} if changed
                             else _("The customer already had this choice; nothing changed."))
            return redirect(reverse("support:customer", kwargs={"pk": pk}) + "#itemisation")
    return _card(request, pk, itemisation_form=form, status=400)
