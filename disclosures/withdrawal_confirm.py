"""The page an officer confirms before recording that the authority withdrew a request (views.transition, step
"withdraw"): the request ends for good and its legal hold is released after the grace period, so the first POST
only asks (voipxs/confirm.py), once the service's check (a note saying how the authority withdrew it, a state
that may still be withdrawn) has passed; a refusal is raised here already, as recording it would raise it."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from voipxs.confirm import confirmation_page

from .models import DisclosureRequest
from .services.transitions import disclosure_request_withdraw_check
from .transitions import TRANSITIONS


def withdrawal_confirmation(request: HttpRequest, req: DisclosureRequest) -> HttpResponse:
    note = request.POST.get("note", "")
    release = disclosure_request_withdraw_check(request=req, note=note)
    return confirmation_page(
        request, title=_("Record that the authority withdrew request #%(pk)s (%(reference)s)?") % {
            "pk": req.pk, "reference": req.reference},
        consequences=[TRANSITIONS["withdraw"].confirm,
                      _("Nothing is collected or handed over for it any more; the transparency report counts it as "
                        "withdrawn."),
                      _("Its legal hold is released on %(date)s; from then on its data fall back under the retention "
                        "policies.") % {"date": date_format(localtime(release), "DATETIME_FORMAT")},
                      _("Recorded as how the authority withdrew it: “%(note)s”") % {"note": note.strip()[:500]}],
        action_label=_("Yes, record the withdrawal"),
        cancel_url=reverse("disclosures:detail", args=[req.pk]))


def withdrawal_done(req: DisclosureRequest) -> str:
    """What the page says once the withdrawal is recorded."""
    return _("Recorded: the authority withdrew request #%(pk)s. It is closed; its legal hold is released on "
             "%(date)s.") % {"pk": req.pk, "date": date_format(localtime(req.hold_release_due_at), "DATETIME_FORMAT")}
