"""A request's pages: its intake, its page, each step on it (dispatched through the table in transitions.py, the
one the API uses) and its package's download."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.timezone import now
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voipxs.confirm import is_confirmed
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import has_role
from voipxs.timeutil import day_start

from .common import officer_only
from ..forms import (
    ConvertForm,
    DocumentForm,
    NarrowForm,
    NoteForm,
    NoticeDecisionForm,
    RequestForm,
    document_inputs,
)
from ..models import DataCategory, Notice
from ..bases import BASES
from ..history import disclosure_request_history
from ..notice_confirm import notices_send_confirmation
from ..step_done import step_done
from ..withdrawal_confirm import withdrawal_confirmation
from ..selectors import (
    authority_list,
    disclosure_preservation_documents,
    disclosure_request_get,
    request_purpose,
)
from ..services.holds import request_hold_release_due
from ..services.intake import NOTICE_DEFAULT_REASON, ReceivedDocument, disclosure_request_take_in
from ..services.packages import disclosure_package_download, package_content_type
from ..services.transitions import approval_refusal
from ..signing import signing_public_key
from ..transitions import CONFIRM_REQUIRED, CONFIRM_STEP_REQUIRED, TRANSITIONS, Transition


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    officer_only(request)
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
    officer_only(request)
    req = disclosure_request_get(actor=request.user, pk=pk)
    approvers = list(req.approvals.select_related("officer"))
    notices = list(req.notices.select_related("request__authority").order_by("pk"))
    return render(request, "disclosures/detail.html", {
        "req": req, "targets": list(req.targets.select_related("account")), "approvals": approvers,
        "documents": req.documents.order_by("uploaded_at"), "package": getattr(req, "package", None),
        "notices": notices, "notices_withheld": any(n.state == Notice.State.WITHHELD for n in notices),
        "notice_drafts": [n for n in notices if n.state == Notice.State.DRAFT],
        "downloads": req.package.downloads.select_related("downloaded_by") if hasattr(req, "package") else [],
        "note_form": NoteForm(), "narrow_form": NarrowForm(), "document_form": DocumentForm(),
        "approval_refusal": approval_refusal(req=req, officer=request.user),  # why no Approve button, or None
        "back_q": request.GET.get("q", "").strip()[:100],  # came from the dashboard's search: a link back to it
        "confirm": {name.replace("-", "_"): row.confirm for name, row in TRANSITIONS.items() if row.confirm},
        "convert_form": ConvertForm(initial={"categories": req.categories}), "basis": BASES[req.legal_basis],
        "category_labels": [DataCategory(c).label if c in DataCategory.values else c for c in req.categories],
        "preservation": BASES[req.legal_basis].preservation,
        # The day the hold would be released if the request were closed now: said beside the close button.
        "close_release": request_hold_release_due(req=req, at=now(), keep_to_term=True),
        "signing_key": signing_public_key() if hasattr(req, "package") else None,
        "notice_reason": _notice_reason(req.notice_withheld_reason),
        "notice_form": NoticeDecisionForm(initial={"notify": "yes" if req.notice_user else "no"}),
        # A production order converted from a preservation: that preservation's documents, shown with its own.
        "preservation_documents": (disclosure_preservation_documents(actor=request.user, request=req)
                                   if hasattr(req, "converted_from") else ()),
        "history": disclosure_request_history(actor=request.user, request=req, purpose=request_purpose(req)),
        **(bound_forms or {}),
    })


# The steps whose form the page shows again when the step is refused, bound, the refusal next to the field it names
# (a file is chosen again: a browser does not send it back): the step's URL segment -> the form's name in detail.
_FORMS_SHOWN_AGAIN = {"convert": "convert_form", "document": "document_form", "notice-decision": "notice_form",
                      "narrow": "narrow_form"}
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


def _confirm_refusal(row: Transition) -> ApplicationError:
    """The refusal of a step sent without its box ticked, naming the step by its button."""
    if not row.button:
        return ApplicationError(CONFIRM_REQUIRED, extra={"field": "confirm"})
    return ApplicationError.formatted(CONFIRM_STEP_REQUIRED, {"step": row.button}, field="confirm")


def _refused_step(action: str, row: Transition, request: HttpRequest, exc: ApplicationError) -> dict:
    """For a box left unticked: the refusal beside that step's box, and its text inputs as typed (`posted`, by the
    step's name as in `confirm`), so the page comes back with the step filled in; its page form, if any, is bound."""
    if exc.extra.get("field") != "confirm":
        return {}
    step = action.replace("-", "_")
    return {"confirm_refused": {"step": step, "error": exc.shown()},
            "posted": {step: {name: request.POST.get(name, "") for name in row.fields}}}


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
            raise _confirm_refusal(row)
        result = row.run(actor=request.user, request=req, inputs=_step_inputs(row, request, form))
    except ApplicationError as exc:
        messages.error(request, exc.shown())
        bound = _refused_step(action, row, request, exc)
        if form is not None:
            field = exc.extra.get("field")
            if form.is_valid() and field != "confirm":  # the service refused: say so at the field it names
                exc.extra["field"] = getattr(form, "SERVICE_FIELDS", {}).get(field, field)
                exc.add_to(form)
            bound[_FORMS_SHOWN_AGAIN[action]] = form
        response = detail(request, pk, bound_forms=bound)
        response.status_code = 400
        return response
    messages.success(request, step_done(action, req, result))  # what the step did, never a bare "Done."
    return redirect("disclosures:detail", pk=pk)


@login_required
def download(request: HttpRequest, pk: int) -> HttpResponse:
    officer_only(request)
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
