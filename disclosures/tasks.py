"""Celery tasks: ids in, counts out (JSON only, never personal data); each calls one service."""
from __future__ import annotations

from celery import shared_task

from accounts.models import User
from voipxs.privacy.purposes import SystemActor

from .production import ScopeViolation
from .services.deadlines import disclosure_sla_escalate, disclosure_written_orders_escalate
from .services.jobs import (
    disclosure_deadlines_escalate,
    disclosure_holds_release_due,
    disclosure_notice_drafts_remind,
    disclosure_notice_reviews_remind,
    disclosure_secrecy_reminders,
)
from .services.packages import (
    disclosure_package_build,
    disclosure_production_failed,
    disclosure_production_starter_gone,
    disclosure_productions_requeue,
)
from .services.preservation import disclosure_preservations_expire, disclosure_preservations_remind

HOLD_ACTOR = SystemActor("disclosure_holds")
DEADLINE_ACTOR = SystemActor("disclosure_deadlines")


@shared_task(name="disclosures.tasks.disclosure_package_build_task")
def disclosure_package_build_task(request_id: int, actor_id: int) -> dict:
    """Build the package as the officer who started the production (their purposes are checked)."""
    actor = User.objects.filter(pk=actor_id).first()
    if actor is None:  # the officer's account row is gone: the build can never run as them
        disclosure_production_starter_gone(request_id=request_id)
        return {"request": request_id, "ok": False}
    try:
        package = disclosure_package_build(request_id=request_id, actor=actor)
    except ScopeViolation as exc:
        # The message holds a CDR id only; it is the reason the officers see.
        disclosure_production_failed(request_id=request_id, actor=actor, error=f"ScopeViolation: {exc}")
        return {"request": request_id, "ok": False}
    except Exception as exc:
        # Anything else (a destroyed month key, ...): the class name only, never the data.
        disclosure_production_failed(request_id=request_id, actor=actor, error=type(exc).__name__)
        raise
    if package is None:  # built, or being built, by another delivery of this task
        return {"request": request_id, "ok": True, "package": None}
    return {"request": request_id, "ok": True, "package": package.pk, "records": package.record_count}


@shared_task(name="disclosures.tasks.disclosure_productions_requeue_task", ignore_result=True)
def disclosure_productions_requeue_task() -> int:
    """Beat, every 5 minutes: send again the package builds whose task never arrived (the broker was down)."""
    return len(disclosure_productions_requeue())


@shared_task(name="disclosures.tasks.disclosure_holds_release_task")
def disclosure_holds_release_task() -> dict:
    return {"released": disclosure_holds_release_due(actor=HOLD_ACTOR)}


@shared_task(name="disclosures.tasks.disclosure_deadlines_task")
def disclosure_deadlines_task() -> dict:
    return {"escalated": disclosure_deadlines_escalate(actor=DEADLINE_ACTOR)}


@shared_task(name="disclosures.tasks.disclosure_secrecy_reminders_task")
def disclosure_secrecy_reminders_task() -> dict:
    """Beat, daily: remind the officers of withheld notices whose secrecy order ended, of decisions to
    withhold the notice whose review date has come, and of draft notices left unsent."""
    return {"reminded": disclosure_secrecy_reminders(actor=DEADLINE_ACTOR),
            "reviews": disclosure_notice_reviews_remind(actor=DEADLINE_ACTOR),
            "drafts": disclosure_notice_drafts_remind(actor=DEADLINE_ACTOR)}


@shared_task(name="disclosures.tasks.disclosure_preservations_task")
def disclosure_preservations_task() -> dict:
    """Beat, hourly: end the preservations whose term passed (hold released, audited), then remind the
    officers of those ending soon."""
    return {"expired": disclosure_preservations_expire(actor=HOLD_ACTOR),
            "reminded": disclosure_preservations_remind(actor=DEADLINE_ACTOR)}


@shared_task(name="disclosures.tasks.disclosure_statutory_clocks_task")
def disclosure_statutory_clocks_task() -> dict:
    """Beat, every 15 minutes (an emergency answer is due in 8 hours): escalate e-Evidence and emergency
    requests at 50 / 80 / 100 % of their time, and emergency requests whose written order is late."""
    return {"sla": disclosure_sla_escalate(actor=DEADLINE_ACTOR),
            **disclosure_written_orders_escalate(actor=DEADLINE_ACTOR)}
