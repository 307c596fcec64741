"""What the request's page says once a step is done (views.transition): each step names what it did, from what its
service returned, in the page's language. Numbers, dates and counts only: never a name, a number of a target, a
reference or an officer's note (the page around it shows those to whom may see them)."""
from __future__ import annotations

from typing import Any, Callable

from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import DisclosureRequest, Package, Status
from .withdrawal_confirm import withdrawal_done


def _when(moment) -> str:
    return date_format(localtime(moment), "DATETIME_FORMAT")


def _released(req: DisclosureRequest, done: str) -> str:
    """`done`, and when the request's legal hold is released (where that is set)."""
    if req.hold_release_due_at is None:
        return done
    return _("%(done)s Its legal hold is released on %(date)s.") % {"done": done,
                                                                     "date": _when(req.hold_release_due_at)}


def _approved(req: DisclosureRequest) -> str:
    if req.status == Status.APPROVED:
        return _("Approval recorded: request #%(pk)s is approved by two legal officers.") % {"pk": req.pk}
    return _("Approval recorded for request #%(pk)s; it needs the approval of another legal officer too.") % {
        "pk": req.pk}


def _checked(req: DisclosureRequest) -> str:
    records = Package.objects.filter(request=req).values_list("record_count", flat=True).first() or 0
    return ngettext("Output check recorded for request #%(pk)s: %(n)s record, ready to hand over.",
                    "Output check recorded for request #%(pk)s: %(n)s records, ready to hand over.",
                    records) % {"pk": req.pk, "n": records}


def _noticed(req: DisclosureRequest) -> str:
    if req.notice_user:
        return _("Decision recorded for request #%(pk)s: the user is told.") % {"pk": req.pk}
    if req.notice_review_on is None:
        return _("Decision recorded for request #%(pk)s: the user is not told.") % {"pk": req.pk}
    return _("Decision recorded for request #%(pk)s: the user is not told; the decision is reviewed on "
             "%(date)s.") % {"pk": req.pk, "date": date_format(req.notice_review_on, "DATE_FORMAT")}


_MESSAGES: dict[str, Callable[[DisclosureRequest, Any], str]] = {
    "verify": lambda req, _r: _("Verification recorded for request #%(pk)s: the authority confirmed it on a channel "
                                "of the register.") % {"pk": req.pk},
    "review": lambda req, _r: _("Legal review of request #%(pk)s started.") % {"pk": req.pk},
    "clarify": lambda req, _r: _("Clarification asked for request #%(pk)s; the review resumes when the authority "
                                 "answers.") % {"pk": req.pk},
    "resume": lambda req, _r: _("Legal review of request #%(pk)s resumed.") % {"pk": req.pk},
    "approve": lambda req, _r: _approved(req),
    "reject": lambda req, _r: _released(req, _("Request #%(pk)s rejected.") % {"pk": req.pk}),
    "withdraw": lambda req, _r: withdrawal_done(req),
    "narrow": lambda req, _r: _("Scope of request #%(pk)s narrowed; it is approved anew by two legal "
                                "officers.") % {"pk": req.pk},
    "produce": lambda req, _r: _("Production of the package of request #%(pk)s started; this page shows the "
                                 "package when it is built.") % {"pk": req.pk},
    "check": lambda req, _r: _checked(req),
    "deliver": lambda req, _r: _("Delivery of request #%(pk)s recorded (%(outcome)s).") % {
        "pk": req.pk, "outcome": req.get_outcome_display()},
    "close": lambda req, _r: _released(req, _("Request #%(pk)s closed.") % {"pk": req.pk}),
    "renew": lambda req, _r: _("Preservation #%(pk)s renewed until %(date)s.") % {
        "pk": req.pk, "date": _when(req.preserve_until)},
    "convert": lambda req, _r: _("Preservation #%(pk)s converted into production order #%(new)s, a new request "
                                 "that is verified and approved anew.") % {"pk": req.pk, "new": req.converted_to_id},
    "send-notices": lambda req, sent: ngettext("%(n)s notice of request #%(pk)s sent.",
                                               "%(n)s notices of request #%(pk)s sent.",
                                               len(sent)) % {"n": len(sent), "pk": req.pk},
    "notice-decision": lambda req, _r: _noticed(req),
    "document": lambda req, _r: _("Document added to request #%(pk)s, stored encrypted.") % {"pk": req.pk},
}


def step_done(action: str, req: DisclosureRequest, result: Any) -> str:
    """What the page says after `action` on `req`: `result` is what the step's service returned (the request as
    it left it, for most; the notices sent; the document added). Read again here, so that each says what is."""
    if isinstance(result, DisclosureRequest):
        req = result
    else:
        req = DisclosureRequest.objects.get(pk=req.pk)
    return _MESSAGES[action](req, result)
