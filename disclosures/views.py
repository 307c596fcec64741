"""Legal officers' pages (everything under /disclosures/ except notices/), and the customer's own
notices page. Thin: forms parse, services and selectors decide; a step on a request (verify, approve,
deliver, ...) is dispatched through the table in transitions.py, the one the API uses. Anyone without
the legal officer role gets 404 on the staff pages: customers never learn that a disclosure exists."""
from __future__ import annotations

from typing import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import now
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_POST

from traffic.exports import csv_lines
from voipxs.confirm import is_confirmed
from voipxs.exceptions import ApplicationError
from voipxs.form_fields import day_start
from voipxs.privacy.purposes import Role, has_role

from .forms import (
    AuthorityCertificateForm,
    AuthorityDomainsForm,
    AuthorityForm,
    ConvertForm,
    DocumentForm,
    NarrowForm,
    NoteForm,
    NoticeDecisionForm,
    ReportForm,
    RequestForm,
    document_inputs,
)
from .models import Authority, DataCategory, Notice
from .bases import BASES
from .notice_confirm import notices_send_confirmation
from .step_done import step_done
from .withdrawal_confirm import withdrawal_confirmation
from .selectors import (
    authority_list,
    disclosure_deadlines,
    disclosure_preservation_documents,
    disclosure_preservations,
    disclosure_request_get,
    disclosure_request_list,
    notice_list_for_user,
    transparency_report,
    transparency_rows,
)
from .services.authorities import (
    CERTIFICATE_UNREADABLE,
    authority_certificate_confirm,
    authority_certificate_discard,
    authority_certificate_set,
    authority_create,
    authority_domains_confirm,
    authority_domains_discard,
    authority_domains_set,
    authority_verify,
)
from .services.intake import NOTICE_DEFAULT_REASON, ReceivedDocument, disclosure_request_take_in
from .services.packages import disclosure_package_download, package_content_type
from .services.transitions import approval_refusal
from .signing import signing_public_key
from .transitions import CONFIRM_REQUIRED, TRANSITIONS, Transition

AUTHORITY_CONFIRM = gettext_lazy(
    "I checked these channels and e-mail domains against an official source myself (not the request letter).")
DOMAINS_INVALID = gettext_noop("Check the e-mail domains.")
DOMAINS_CONFIRM = gettext_lazy(
    "I took these e-mail domains from an official source of the authority, not from a request letter.")
DOMAINS_SECOND_CONFIRM = gettext_lazy(
    "I checked these e-mail domains against an official source of the authority myself, not on the word of the "
    "officer who proposed them.")
CERTIFICATE_CONFIRM = gettext_lazy(
    "I received this certificate from the authority and compared its SHA-256 fingerprint with the authority on a "
    "channel of the register.")
CERTIFICATE_SECOND_CONFIRM = gettext_lazy(
    "I compared this fingerprint with the authority myself, on a channel of the register, not on the word of the "
    "officer who proposed it.")


def _officer(request: HttpRequest) -> None:
    if not has_role(request.user, Role.LEGAL_OFFICER):
        raise Http404


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _officer(request)
    return render(request, "disclosures/dashboard.html", {
        "deadlines": disclosure_deadlines(actor=request.user),
        "preservations": disclosure_preservations(actor=request.user),
        "legal_representative": settings.EEVIDENCE_LEGAL_REPRESENTATIVE,
        # Delivered and not yet closed: off the deadline list, but the officers still owe the close (which
        # schedules the release of the hold), so they stay in sight.
        "delivered": disclosure_request_list(actor=request.user).filter(status="delivered").order_by("delivered_at"),
        # Delivered, the user to be told, and the notice still a draft: an officer reviews and sends it.
        "notice_drafts": disclosure_request_list(actor=request.user).filter(
            notice_user=True, notices__state=Notice.State.DRAFT).distinct().order_by("delivered_at"),
        "closed": disclosure_request_list(actor=request.user).filter(status__in=["closed", "rejected", "withdrawn"])
        .order_by("-closed_at")[:20],
    })


@login_required
def authorities(request: HttpRequest) -> HttpResponse:
    _officer(request)
    form = AuthorityForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                authority_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                exc.add_to(form)
            else:
                messages.success(request, _("Authority added; another legal officer verifies its channels before "
                                            "its requests are handled."))
                return redirect("disclosures:authorities")
        status = 400
    return render(request, "disclosures/authorities.html",
                  {"authorities": authority_list(actor=request.user), "form": form, "note_form": NoteForm(),
                   "confirm_text": AUTHORITY_CONFIRM, "certificate_confirm": CERTIFICATE_CONFIRM,
                   "certificate_second_confirm": CERTIFICATE_SECOND_CONFIRM, "domains_confirm": DOMAINS_CONFIRM,
                   "domains_second_confirm": DOMAINS_SECOND_CONFIRM}, status=status)


def _register_step(request: HttpRequest, pk: int, step: Callable[[Authority], str], *,
                   confirm: bool = False) -> HttpResponse:
    """One change to the register from its page, by a legal officer: `step` calls its service on the authority and
    returns what to tell the officer; a refusal (or, with `confirm`, an unticked confirmation box) is shown instead.
    Back to the register either way."""
    _officer(request)
    authority = get_object_or_404(Authority, pk=pk)
    try:
        if confirm and request.POST.get("confirm") != "yes":
            raise ApplicationError(CONFIRM_REQUIRED, extra={"field": "confirm"})
        messages.success(request, step(authority))
    except ApplicationError as exc:
        messages.error(request, exc.shown())
    return redirect("disclosures:authorities")


@login_required
@require_POST
def authority_verification(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        authority_verify(actor=request.user, authority=authority, note=request.POST.get("note", ""))
        return _("Contact channels recorded as verified.")
    return _register_step(request, pk, step, confirm=True)


@login_required
@require_POST
def authority_domains(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        form = AuthorityDomainsForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(DOMAINS_INVALID, extra={"field": "email_domains"})
        authority_domains_set(actor=request.user, authority=authority, email_domains=form.cleaned_data["email_domains"])
        return _("Change proposed: it takes effect when another legal officer confirms it; until then requests are "
                 "checked against the e-mail domains in force.")
    return _register_step(request, pk, step, confirm=True)


@login_required
@require_POST
def authority_domains_confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        # The page posts the list it showed, comma-separated (the register's hidden field).
        seen = request.POST.get("proposed_domains", "").split(",")
        authority_domains_confirm(actor=request.user, authority=authority, proposed_domains=seen)
        return _("E-mail domains saved; requests already taken in keep the flag they got.")
    return _register_step(request, pk, step, confirm=True)


@login_required
@require_POST
def authority_domains_discarding(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        authority_domains_discard(actor=request.user, authority=authority)
        return _("The proposed change of the e-mail domains was discarded; nothing changed.")
    return _register_step(request, pk, step)


@login_required
@require_POST
def authority_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        form = AuthorityCertificateForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(CERTIFICATE_UNREADABLE, extra={"field": "certificate"})
        authority_certificate_set(actor=request.user, authority=authority, certificate=form.cleaned_data["certificate"])
        return _("Change proposed: it takes effect when another legal officer confirms it, after comparing its "
                 "fingerprint with the authority.")
    return _register_step(request, pk, step, confirm=True)


@login_required
@require_POST
def authority_certificate_confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        authority = authority_certificate_confirm(actor=request.user, authority=authority,
                                                  proposed_sha256=request.POST.get("proposed_sha256", ""))
        if authority.certificate:
            return _("Certificate saved: packages for this authority are now encrypted to it.")
        return _("Certificate removed: packages for this authority go only on an encrypted channel, recorded at "
                 "delivery.")
    return _register_step(request, pk, step, confirm=True)


@login_required
@require_POST
def authority_certificate_discarding(request: HttpRequest, pk: int) -> HttpResponse:
    def step(authority: Authority) -> str:
        authority_certificate_discard(actor=request.user, authority=authority)
        return _("The proposed change of the certificate was discarded; nothing changed.")
    return _register_step(request, pk, step)


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    _officer(request)
    auths = list(authority_list(actor=request.user).filter(active=True))
    form = RequestForm(request.POST or None, request.FILES or None, authorities=auths)
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            authority = next((a for a in auths if a.pk == d["authority"]), None)
            if authority is None:
                form.add_error("authority", _("Choose an authority from the register."))
            else:
                upload = d["document"]
                document = (ReceivedDocument(**document_inputs(upload), is_written_order=d["document_is_order"])
                            if upload else None)
                try:  # the document is checked before anything is stored, and filed in the request's transaction
                    req = disclosure_request_take_in(
                        actor=request.user, document=document, authority=authority, reference=d["reference"],
                        legal_basis=d["legal_basis"], categories=d["categories"],
                        window_start=day_start(d["window_start"]), window_end=day_start(d["window_end"]),
                        deadline=d["deadline"], numbers=d["numbers"], account_ids=d["account_ids"],
                        max_hits=d["max_hits"],
                        emergency=d["emergency"], oral_order=d["oral_order"], secrecy_until=d["secrecy_until"],
                        notice_user=d["notice_user"], notice_withheld_reason=d["notice_withheld_reason"],
                        notice_review_on=d["notice_review_on"], received_from=d["received_from"])
                except ApplicationError as exc:
                    exc.add_to(form)
                else:
                    messages.success(request, _("Request taken in; a legal hold was placed on its scope."))
                    return redirect("disclosures:detail", pk=req.pk)
        return render(request, "disclosures/request_new.html", {"form": form}, status=400)
    return render(request, "disclosures/request_new.html", {"form": form})


def _notice_reason(reason: str) -> str:
    """A reason the law gives is stored in English and shown in the page's language; an officer's as written."""
    return _(reason) if reason in NOTICE_DEFAULT_REASON.values() else reason


@login_required
def detail(request: HttpRequest, pk: int, bound_forms: dict[str, forms.Form] | None = None) -> HttpResponse:
    """The request's page; `bound_forms` (by their name here) replace the blank ones after a refused step."""
    _officer(request)
    req = disclosure_request_get(actor=request.user, pk=pk)
    approvers = list(req.approvals.select_related("officer"))
    notices = list(req.notices.select_related("request__authority").order_by("pk"))
    return render(request, "disclosures/detail.html", {
        "req": req, "targets": list(req.targets.select_related("account")), "approvals": approvers,
        "documents": req.documents.order_by("uploaded_at"), "package": getattr(req, "package", None),
        "notices": notices, "notices_withheld": any(n.state == Notice.State.WITHHELD for n in notices),
        "notice_drafts": [n for n in notices if n.state == Notice.State.DRAFT],
        "downloads": req.package.downloads.select_related("downloaded_by") if hasattr(req, "package") else [],
        "note_form": NoteForm(), "narrow_form": NarrowForm(auto_id="id_narrow_%s"), "document_form": DocumentForm(),
        "may_approve": approval_refusal(req=req, officer=request.user) is None,
        "confirm": {name.replace("-", "_"): row.confirm for name, row in TRANSITIONS.items() if row.confirm},
        "convert_form": ConvertForm(initial={"categories": req.categories}), "basis": BASES[req.legal_basis],
        "category_labels": [DataCategory(c).label if c in DataCategory.values else c for c in req.categories],
        "preservation": BASES[req.legal_basis].preservation,
        "signing_key": signing_public_key() if hasattr(req, "package") else None,
        "notice_reason": _notice_reason(req.notice_withheld_reason),
        "notice_form": NoticeDecisionForm(initial={"notify": "yes" if req.notice_user else "no"}),
        # A production order converted from a preservation: that preservation's documents, shown with its own.
        "preservation_documents": (disclosure_preservation_documents(actor=request.user, request=req)
                                   if hasattr(req, "converted_from") else ()),
        **(bound_forms or {}),
    })


# The steps whose form the page shows again when the step is refused, bound, the refusal next to the field it names
# (a file is chosen again: a browser does not send it back): the step's URL segment -> the form's name in detail.
_FORMS_SHOWN_AGAIN = {"convert": "convert_form", "document": "document_form"}
# The steps whose first POST answers with a page that says what will happen (voipxs/confirm.py), or refuses.
_CONFIRMATION_PAGES = {"send-notices": notices_send_confirmation, "withdraw": withdrawal_confirmation}


def _step_inputs(row: Transition, request: HttpRequest, form: forms.Form | None = None) -> dict:
    """What the page posted for the step: text under the row's field names, or its form's inputs."""
    if row.page_form is None:
        return {name: request.POST.get(name, "") for name in row.fields}
    form = form or row.page_form(request.POST, request.FILES)
    if not form.is_valid():
        raise ApplicationError(row.page_error, extra={"field": next(iter(form.errors))})
    return form.inputs()


@login_required
@require_POST
def transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    row = TRANSITIONS.get(action)
    if row is None or not has_role(request.user, row.role):
        raise Http404
    form = row.page_form(request.POST, request.FILES) if action in _FORMS_SHOWN_AGAIN else None
    try:
        req = disclosure_request_get(actor=request.user, pk=pk)
        if action in _CONFIRMATION_PAGES and not is_confirmed(request):
            return _CONFIRMATION_PAGES[action](request, req)
        if row.confirm and request.POST.get("confirm") != "yes":
            raise ApplicationError(CONFIRM_REQUIRED, extra={"field": "confirm"})
        result = row.run(actor=request.user, request=req, inputs=_step_inputs(row, request, form))
    except ApplicationError as exc:
        messages.error(request, exc.shown())
        bound = {}
        if form is not None:
            field = exc.extra.get("field")
            if form.is_valid() and field != "confirm":  # the service refused: say so at the field it names
                exc.add_to(form)
            bound[_FORMS_SHOWN_AGAIN[action]] = form
        response = detail(request, pk, bound_forms=bound)
        response.status_code = 400
        return response
    messages.success(request, step_done(action, req, result))  # what the step did, never a bare "Done."
    return redirect("disclosures:detail", pk=pk)


@login_required
def download(request: HttpRequest, pk: int) -> HttpResponse:
    _officer(request)
    req = disclosure_request_get(actor=request.user, pk=pk)
    try:
        name, file = disclosure_package_download(actor=request.user, request=req)
    except ApplicationError as exc:
        messages.error(request, exc.shown())
        return redirect("disclosures:detail", pk=pk)
    # Streamed from the temporary file the service made (closed, and so deleted, once sent).
    response = FileResponse(file, as_attachment=True, filename=name, content_type=package_content_type(name))
    response["Cache-Control"] = "no-store"
    return response


def _report_form(request: HttpRequest) -> ReportForm:
    today = now().date()
    default = {"year": today.year if today.month > 6 else today.year - 1, "half": 1 if today.month > 6 else 2}
    return ReportForm(request.GET or default)


@login_required
def report(request: HttpRequest) -> HttpResponse:
    _officer(request)
    form = _report_form(request)
    if not form.is_valid():
        return render(request, "disclosures/report.html", {"form": form}, status=400)
    data = transparency_report(actor=request.user, **form.cleaned_data)
    if request.GET.get("format") == "csv":
        response = HttpResponse("".join(csv_lines(transparency_rows(data))), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="transparency-{data["period"]}.csv"'
        return response
    return render(request, "disclosures/report.html", {"form": form, "report": data})


@login_required
def bases(request: HttpRequest) -> HttpResponse:
    """The legal-basis table the intake checks against: categories, future reach, deadlines, source."""
    _officer(request)
    return render(request, "disclosures/bases.html", {
        "bases": list(BASES.values()), "legal_representative": settings.EEVIDENCE_LEGAL_REPRESENTATIVE,
        "written_order_days": settings.DISCLOSURE_WRITTEN_ORDER_DAYS})


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    """The one disclosures page a customer sees: notices about their own data that were sent."""
    return render(request, "disclosures/notices.html", {"notices": notice_list_for_user(actor=request.user)})


