"""The page an officer confirms before notices go to users (views.transition, step "send-notices"): to which
accounts, and the very sentence each user will read on their page "Disclosures of your data" (the template that
page uses). A sent notice cannot be taken back, so the first POST only asks (voipxs/confirm.py); a request with
nothing to send is refused here already, as sending would refuse it."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voipxs.confirm import confirmation_page

from .models import DisclosureRequest
from .services.notices import notices_to_send


def notices_send_confirmation(request: HttpRequest, req: DisclosureRequest) -> HttpResponse:
    """Ask before sending; raises the service's refusal (ApplicationError) when there is nothing it may send."""
    notices = notices_to_send(actor=request.user, request=req)
    count = len(notices)
    accounts = ", ".join(f"#{n.user_id}" for n in notices)
    told = ngettext("Account %(accounts)s is told, on their page “Disclosures of your data” and through the API:",
                    "Accounts %(accounts)s are told, each on their page “Disclosures of your data” and through "
                    "the API:", count) % {"accounts": accounts}
    text = render_to_string("disclosures/_notice_text.html", {"n": notices[0]}, request=request)
    return confirmation_page(
        request,
        title=ngettext("Send the notice to %(count)d account?", "Send the notice to %(count)d accounts?", count)
        % {"count": count},
        consequences=[format_html("{} “{}”", told, text),
                      _("A sent notice cannot be taken back; sending it is recorded in the audit log.")],
        action_label=_("Yes, send the notice"),
        cancel_url=reverse("disclosures:detail", args=[req.pk]) + "#notices")
