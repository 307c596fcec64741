"""Click-to-call pages: a customer's tokens (made on the security page) and recent set-ups, and the
blocked prefixes that fraud analysts keep (read and changed under SECURITY). Thin: selectors and services do
the work."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from accounts.selectors import call_setup_token_list
from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, purposes_of

from ..models import BlockedPrefix
from ..selectors.call_setup import SUPPORT_DAYS, blocked_prefix_list, call_setup_recent, call_setup_support_list
from ..services.call_setup import blocked_prefix_add, blocked_prefix_remove
from .access import require_fraud


class BlockedPrefixForm(forms.Form):
    prefix = forms.CharField(label=_("Prefix (E.164 digits without '+')"), max_length=16)
    # No reason chosen for the fraud analyst: the customer is told it (the first option is empty, so one is picked).
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "---------"), *BlockedPrefix.Reason.choices])


@login_required
@require_safe
def call_setups(request: HttpRequest) -> HttpResponse:
    """The user's click-to-call tokens and their latest set-ups (roles with the purpose CALL_SETUP)."""
    if Purpose.CALL_SETUP not in purposes_of(request.user):
        raise PermissionDenied
    tokens = call_setup_token_list(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user)
    recent = call_setup_recent(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user)
    return render(request, "traffic/call_setups.html", {"tokens": tokens, "recent": recent})


@login_required
def staff_blocked_prefixes(request: HttpRequest) -> HttpResponse:
    require_fraud(request)
    form = BlockedPrefixForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                blocked = blocked_prefix_add(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                exc.add_to(form)
            else:
                messages.success(request, gettext("Calls to %(prefix)s are now refused.") % {"prefix": blocked})
                return redirect("traffic:staff-blocked-prefixes")
        status = 400
    prefixes = blocked_prefix_list(actor=request.user, purpose=Purpose.SECURITY)
    return render(request, "traffic/blocked_prefixes.html", {"form": form, "prefixes": prefixes}, status=status)


@login_required
@require_POST
def staff_blocked_prefix_remove(request: HttpRequest, prefix_id: int) -> HttpResponse:
    """Unblocking lets click-to-call reach costly numbers again at once, so the first POST asks, naming the prefix."""
    require_fraud(request)
    blocked = blocked_prefix_list(actor=request.user, purpose=Purpose.SECURITY).filter(pk=prefix_id).first()
    if blocked is None:
        raise Http404
    named = {"prefix": blocked.prefix, "reason": blocked.get_reason_display()}
    if not is_confirmed(request):
        return confirmation_page(
            request, title=gettext("Unblock the prefix +%(prefix)s?") % named,
            consequences=[gettext("Click-to-call sets up calls to numbers that start with +%(prefix)s again at once, "
                                  "at the customers' cost; it was blocked as: %(reason)s.") % named,
                          gettext("To block it again, add it again on this page.")],
            action_label=gettext("Yes, unblock +%(prefix)s") % named,
            cancel_url=reverse("traffic:staff-blocked-prefixes"))
    if not blocked_prefix_remove(actor=request.user, prefix_id=prefix_id):
        raise Http404
    messages.success(request, gettext("The prefix +%(prefix)s is no longer blocked.") % named)
    return redirect("traffic:staff-blocked-prefixes")


def support_call_setups_panel(*, actor, user) -> dict:
    """The panel on the support desk's card of a customer (accounts.support.panels): their recent set-ups."""
    return {"rows": call_setup_support_list(actor=actor, user=user), "days": SUPPORT_DAYS}
