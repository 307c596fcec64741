"""The DPO's notes on a requester's calls (GDPR art. 16): on the page of a rectification request
(accounts.dsr.views.dpo_request shows `rectification_panel`, which traffic/apps.py registers with
accounts.dsr.panels) the DPO sees the notes on the person's calls and picks one of their calls, numbers masked,
to attach what the person states; `dpo_call_note_add` takes the form, asks first and calls the service.
Thin: traffic.selectors and traffic.services do the work."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.dsr.selectors import dsr_request_get
from voipxs.confirm import confirmation_page, is_confirmed, is_edit
from voipxs.exceptions import ApplicationError
from voipxs.timeutil import DayField
from voipxs.privacy.purposes import Purpose

from ..selectors.annotations import cdr_annotation_list
from ..selectors.calls import cdr_list
from ..services.annotations import NOTE_MAX_LENGTH, cdr_annotate, cdr_annotation_text_validate

CALLS_SHOWN = 50  # the newest calls of the person, or of the day the DPO chose


class CallDayForm(forms.Form):
    day = DayField(required=False)


class CallNoteForm(forms.Form):
    # "<cdr id>@<start, ISO 8601>": the call as the list names it; the service checks it is the requester's.
    call = forms.RegexField(regex=r"^\d{1,18}@[0-9T:.+\- ]{19,40}$")
    text = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, strip=True)
    day = DayField(required=False)  # the day the list showed, to show it again

    def clean_call(self) -> tuple[int, datetime]:
        cdr_id, _at, started = self.cleaned_data["call"].partition("@")
        try:
            started_at = datetime.fromisoformat(started)
        except ValueError:
            raise forms.ValidationError(_("Choose one of the calls.")) from None
        if started_at.utcoffset() is None:
            raise forms.ValidationError(_("Choose one of the calls."))
        return int(cdr_id), started_at


def _choices(rows: list) -> list[tuple[str, Any]]:
    """(form value, row) per call; a call of several legs is named by the leg that speaks for it."""
    choices = []
    for row in rows:
        leg = next((leg for leg in row.legs if leg.id == row.id), row)
        choices.append((f"{leg.id}@{leg.started_at.isoformat()}", row))
    return choices


def rectification_panel(*, actor: Any, req: Any, params: QueryDict, form: CallNoteForm | None = None) -> dict:
    """The context of the panel (templates/traffic/_dpo_call_notes.html): the notes on the person's calls, and
    for an open request their newest calls (or those of `params["day"]`), numbers masked, to pick one from."""
    days = CallDayForm(params)
    day = days.cleaned_data.get("day") if days.is_valid() else None
    context = {"req": req, "notes": cdr_annotation_list(actor=actor, account=req.user_id), "day": day,
               "can_annotate": req.is_open, "form": form or CallNoteForm(), "max_length": NOTE_MAX_LENGTH,
               "calls_shown": CALLS_SHOWN}
    if req.is_open:
        page = cdr_list(actor=actor, purpose=Purpose.LEGAL_OBLIGATION, account=req.user_id, masked=True,
                        since=day, until=day, limit=CALLS_SHOWN)
        context.update(choices=_choices(page.rows), more=page.next_cursor is not None)
    return context


def _consequences(started_at: datetime, text: str) -> list[str]:
    when = date_format(localtime(started_at), "DATETIME_FORMAT")
    return [
        _("The note is attached to the call of %(time)s. The call itself stays as the switch recorded it.")
        % {"time": when},
        _("The customer sees the note with the call: in their call history, through the API and in their data "
          "export. A note cannot be changed or removed; a correction is another note."),
        _("The note goes when the call goes (retention, erasure)."),
        _("The note reads: %(text)s") % {"text": text},
    ]


@login_required
@require_POST
def dpo_call_note_add(request: HttpRequest, pk: int) -> HttpResponse:
    """`pk`: the rectification request (accounts.dsr), whose requester's call gets the note."""
    req = dsr_request_get(actor=request.user, request_id=pk)  # 403 unless the DPO; audited
    form = CallNoteForm(request.POST)
    back = reverse("accounts_dsr:dpo-request", args=[req.pk])
    editing = is_edit(request)  # "Go back and change": the call and the note as typed, nothing done
    if form.is_valid() and not editing:
        (cdr_id, started_at), day = form.cleaned_data["call"], form.cleaned_data["day"]
        try:
            text = cdr_annotation_text_validate(form.cleaned_data["text"])
            if not is_confirmed(request):
                return confirmation_page(request, title=_("Attach this note to the call?"),
                                         consequences=_consequences(started_at, text),
                                         action_label=_("Yes, attach the note"), cancel_url=back,
                                         edit_anchor="call-note-form")
            cdr_annotate(actor=request.user, cdr_id=cdr_id, started_at=started_at, text=text, dsr_request=req)
            messages.success(request, _("The note is attached to the call."))
            return redirect(back + (f"?day={day.isoformat()}" if day else ""))
        except ApplicationError as exc:
            if exc.extra.get("field") in form.fields:
                exc.add_to(form)
            else:  # the request's state (not open, not a rectification): the form may not be on the page
                messages.error(request, exc.shown())
    context = rectification_panel(actor=request.user, req=req, params=request.POST, form=form)
    return render(request, "traffic/dpo_call_note.html", {"req": req, "panel": context}, status=200 if editing else 400)
