"""The DPO's retention pages: policies (with history and the policy in force on any date), legal
holds (place, release), the last receipts, purge runs that did not finish (with what they removed)
and what the next run would remove. Thin: services and
selectors do the work. No page touches the broker except the "refresh" button, which survives a
broker outage."""
from __future__ import annotations

import logging
from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.timezone import get_default_timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, Role, has_role

from .backup.keyfile import erasure_list_lag, set_aside_list
from .forms import HoldForm, PolicyAtForm, PolicyForm
from .models import Category, LegalHold, PurgeRun, RetentionPolicy
from .selectors import (legal_hold_list, purge_receipt_list, purge_run_unfinished_list, purged_month_list,
                        retention_policy_at, retention_policy_current_list, retention_policy_history)
from .services import (legal_hold_place, legal_hold_release, policy_change_substantive, retention_policy_changes,
                       retention_policy_update)
from .tasks import purge_expired_task

logger = logging.getLogger(__name__)

DPO_ONLY = "Only the data protection officer manages retention."
BROKER_DOWN = "The task queue is unavailable; the figures will be refreshed by the next daily run."


def _require_dpo(request: HttpRequest) -> None:
    if not has_role(request.user, Role.DPO):
        raise PermissionDenied(DPO_ONLY)


def _latest_dry_run() -> PurgeRun | None:
    return PurgeRun.objects.filter(dry_run=True, status=PurgeRun.Status.DONE).order_by("-started_at").first()


def _dashboard(request: HttpRequest, *, hold_form: HoldForm | None = None, policy_errors: dict | None = None,
               status: int = 200) -> HttpResponse:
    at_form = PolicyAtForm(request.GET or None)
    at = None
    if at_form.is_bound and at_form.is_valid():
        # the end of that day in Amsterdam, where the page shows every time (a policy's "valid from" too)
        at = datetime.combine(at_form.cleaned_data["at"], time.max, tzinfo=get_default_timezone())
    preview = _latest_dry_run()
    context = {
        "policies": retention_policy_current_list(),
        "policies_at": retention_policy_current_list(at=at) if at else None,
        "at_form": at_form,
        "history": retention_policy_history(),
        "holds": legal_hold_list(actor=request.user, purpose=Purpose.LEGAL_OBLIGATION)[:100],
        # a hold's disclosure request is a link for those who may open it (legal officers), else its number
        "can_open_disclosures": has_role(request.user, Role.LEGAL_OFFICER),
        "hold_form": hold_form or HoldForm(),
        "policy_form": PolicyForm(),
        "policy_errors": policy_errors or {},
        "receipts": purge_receipt_list(limit=40, dry_run=False),
        "unfinished_runs": purge_run_unfinished_list(),
        "purged_months": purged_month_list(),
        "preview": preview,
        "preview_receipts": preview.receipts.order_by("id") if preview else [],
        "categories": Category.choices,
        "erasure_list": erasure_list_lag(),
        "keys_set_aside": set_aside_list(),
    }
    return render(request, "retention/dashboard.html", context, status=status)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_dpo(request)
    return _dashboard(request)


@login_required
@require_POST
def policy_update(request: HttpRequest, category: str) -> HttpResponse:
    _require_dpo(request)
    if category not in Category.values:
        return _dashboard(request, policy_errors={category: [_("Unknown data category.")]}, status=404)
    form = PolicyForm(request.POST)
    if not form.is_valid():
        errors = {f"{name}": errs for name, errs in form.errors.items()}
        return _dashboard(request, policy_errors={category: [f"{k}: {' '.join(v)}" for k, v in errors.items()]}, status=400)
    try:
        if not is_confirmed(request):
            return _policy_confirmation(request, category, form.cleaned_data)
        policy = retention_policy_update(category=category, actor=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        return _dashboard(request, policy_errors={category: [exc.shown()]}, status=400)
    messages.success(request, _("Policy “%(category)s” is now version %(version)s.")
                     % {"category": policy.get_category_display(), "version": policy.version})
    return redirect("retention:dashboard")


def _policy_confirmation(request: HttpRequest, category: str, data: dict) -> HttpResponse:
    """What saving would do, checked as the service checks it (a refusal is shown before, not after, asking)."""
    current = retention_policy_at(category=category)
    retention_policy_changes(category=category, current=current, **{
        k: v for k, v in data.items() if k != "change_reason"})
    proposed = RetentionPolicy(category=category, **{k: v for k, v in data.items() if k != "change_reason"})
    told = (_("Every user is told of it: a notice on their pages and an e-mail (a longer period, another action, "
              "event or legal basis).") if policy_change_substantive(current, proposed)
            else _("A shorter period: users are not e-mailed; the change is listed in the notice's version history."))
    return confirmation_page(
        request, title=_("Change the retention of %(category)s?") % {"category": proposed.get_category_display()},
        consequences=[
            _("From now on: kept %(period)s after %(trigger)s, then %(action)s; the purge applies it from its next "
              "run.") % {"period": proposed.period_label, "trigger": proposed.trigger,
                         "action": proposed.get_action_display()},
            _("The privacy page lists the new period at once, as a new version of the privacy notice."), told],
        action_label=_("Save as a new version"), cancel_url=reverse("retention:dashboard") + "#policies")


@login_required
@require_POST
def hold_place(request: HttpRequest) -> HttpResponse:
    _require_dpo(request)
    form = HoldForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            hold = legal_hold_place(
                reason=data["reason"], reference=data["reference"], categories=data["categories"], actor=request.user,
                account_ids=data["account_ids"], numbers=data["numbers"],
                window_start=form.as_day_start(data["window_start"]), window_end=form.as_day_end(data["window_end"]),
                expires_at=form.as_day_start(data["expires_at"]),
            )
        except ApplicationError as exc:
            exc.add_to(form)
        else:
            messages.success(request, _("Legal hold %(pk)s placed.") % {"pk": hold.pk})
            return redirect("retention:dashboard")
    return _dashboard(request, hold_form=form, status=400)


@login_required
@require_POST
def hold_release(request: HttpRequest, pk: int) -> HttpResponse:
    _require_dpo(request)
    hold = get_object_or_404(LegalHold, pk=pk)
    if not hold.released_at and not is_confirmed(request):
        return confirmation_page(
            request, title=_("Release legal hold %(pk)s?") % {"pk": hold.pk},
            consequences=[
                _("Legal hold %(pk)s (%(reference)s) ends now; a released hold cannot be reopened, only a new one placed.")
                % {"pk": hold.pk, "reference": hold.reference},
                _("Its data (%(categories)s) falls back under the retention policies: the next purge, at 03:00, "
                  "deletes whatever is past its period, for good.") % {"categories": ", ".join(
                      str(Category(c).label) if c in Category.values else c for c in hold.categories)},
            ],
            action_label=_("Yes, release the hold"), cancel_url=reverse("retention:dashboard") + "#holds")
    try:
        legal_hold_release(hold=hold, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.shown())
        return redirect("retention:dashboard")
    messages.success(request, _("Legal hold %(pk)s released; its data falls back under the policies at the next run.")
                     % {"pk": hold.pk})
    return redirect("retention:dashboard")


@login_required
@require_POST
def preview_refresh(request: HttpRequest) -> HttpResponse:
    """Queue a dry run. If the broker is down the page still answers, with a message."""
    _require_dpo(request)
    try:
        purge_expired_task.delay(dry_run=True)
    except Exception:  # noqa: BLE001 - kombu/redis raise various errors when the broker is unreachable
        logger.warning("retention: could not queue the dry run (broker unavailable)")
        messages.warning(request, _(BROKER_DOWN))
    else:
        messages.info(request, _("A dry run was queued; its figures appear here when it is done."))
    return redirect("retention:dashboard")
