"""Restriction (GDPR art. 18): marking a person's data, the DPO's decision (ground and end), and the lift.

The marks: every model with a `restricted_at` column is stamped for the person (`dsr_restriction_apply`)
and cleared by the lift (`dsr_restriction_lift`). The decision: a `Restriction` row per restriction, with
its ground of art. 18(1) and, for the grounds that last only while something is checked, its last day.
The lift comes in two steps, because art. 18(3) lets it come only after the person was told: the DPO
asks for the notice (`restriction_lift_notice_request`), a task e-mails the person and records when
(`restriction_lift_notice_send`), and only then does `restriction_lift` clear the marks. The last day can be
moved while the restriction lasts (`restriction_end_change`), by the rules it was recorded with, and a new decision
on a new request replaces the terms of the active restriction (`restriction_record`). Either, after the person was
told of the lift, withdraws that notice, which named a lift that no longer comes then (`_lift_notice_withdraw`): the
lift waits for a new notice, and a task e-mails the person that the restriction continues
(`restriction_continuation_notice_send`). The e-mails and their tasks' bodies are in restriction_mail.py.

An erased account stays restricted for good: erasure restricts what the law keeps (dsr/erasure.py,
accounts.services.closing sets `anonymised_at` and `restricted_at`), and that is not the person's art. 18
restriction to lift. Every step here refuses it.

Audit entries carry codes, ids and dates only.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import QuerySet
from django.utils.timezone import localdate, now
from django.utils.translation import gettext_lazy as _

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import DSR_PURPOSE
from voipxs.queue import enqueue_after_commit

from ..models import User
from .deadlines import ReminderStage
from .models import DataSubjectRequest, Restriction

Ground = Restriction.Ground

GROUND_REQUIRED = _("Ground: choose the ground of the restriction (GDPR art. 18(1)).")
END_REQUIRED = _("End date: this ground lasts only while it is checked, so give the last day of the restriction.")
END_IN_PAST = _("End date: give a day from today on.")
ERASED = _("This account was erased: what the law keeps of it stays restricted, and its restriction cannot be lifted.")
NOT_ACTIVE = _("This restriction was already lifted.")
NO_EMAIL = _("E-mail address: this account has none, so the person cannot be told by e-mail before the lift; "
             "tell them another way and record it.")
NOTICE_ALREADY_SENT = _("Person told: the person was already told that the restriction will be lifted.")
CHANNEL_INVALID = _("Told by: choose how the person was told (letter, phone or in person).")
NOTICE_NOT_SENT = _("Person told: the person must be told before the restriction is lifted (GDPR art. 18(3)); "
                    "send the notice first.")
NOTICE_WITHDRAWN = _("Person told: the notice of the lift was withdrawn when the end date moved, so the person must "
                     "be told again before the restriction is lifted (GDPR art. 18(3)); send a new notice first.")
NOTICE_WITHDRAWN_BY_DECISION = _("Person told: the notice of the lift was withdrawn when a new decision on the "
                                 "restriction was recorded, so the person must be told again before the restriction "
                                 "is lifted (GDPR art. 18(3)); send a new notice first.")
NO_GROUND = _("This restriction has no recorded ground, so its end date cannot be checked: record a new decision "
              "on a restriction request, with its ground and last day.")
END_UNCHANGED = _("End date: this is already the restriction's last day.")
END_REASON_INVALID = _("Reason: choose why the end date changes.")


# --- the marks --------------------------------------------------------------------------------------------

def _restrictable(user: User) -> dict[str, QuerySet]:
    """Each model's rows of this person that a restriction marks and its lift clears: one list for both,
    so a lift cannot miss a table the restriction reached (such as the hold table, keyed by plain id)."""
    # Through the sections' erasers would delete; restriction only marks. Sections expose no restrict
    # hook, so the models that carry `restricted_at` are found through the app registry (no import).
    rows: dict[str, QuerySet] = {}
    for model in apps.get_models():
        names = {f.name for f in model._meta.get_fields()}
        if "restricted_at" not in names or model is User:
            continue
        # A foreign key `account`/`user`, or a plain `account_id` (the hold table keeps ids, not keys).
        owner = next((f"{name}_id" for name in ("account", "user") if name in names or f"{name}_id" in names), None)
        if owner is not None:
            rows[model._meta.label_lower] = model.objects.filter(**{owner: user.pk})
    return rows


@transaction.atomic
def dsr_restriction_apply(*, user: User, actor: Any) -> dict:
    stamp = now()
    User.objects.filter(pk=user.pk).update(restricted_at=stamp)
    user.restricted_at = stamp
    counts = {label: rows.filter(restricted_at__isnull=True).update(restricted_at=stamp)
              for label, rows in _restrictable(user).items()}
    audit_record(actor=actor, action="dsr.restrict", purpose=DSR_PURPOSE, target_type="user", target_id=user.pk,
                 extra={"counts": counts})
    return {"restricted": counts}


@transaction.atomic
def dsr_restriction_lift(*, user: User, actor: Any) -> dict:
    """Clear the marks. Refused for an erased account, whatever calls it (see the module's docstring)."""
    if User.objects.filter(pk=user.pk, anonymised_at__isnull=False).exists():
        raise ApplicationError(str(ERASED), extra={"field": "account"})
    User.objects.filter(pk=user.pk).update(restricted_at=None)
    user.restricted_at = None  # the caller's copy too, as apply sets it: pages read it to hide the own calls
    counts = {label: rows.filter(restricted_at__isnull=False).update(restricted_at=None)
              for label, rows in _restrictable(user).items()}
    audit_record(actor=actor, action="dsr.restriction_lift", purpose=DSR_PURPOSE, target_type="user", target_id=user.pk,
                 extra={"counts": counts})
    return {"lifted": counts}


# --- the decision: ground and end ------------------------------------------------------------------------

def restriction_terms_check(*, ground: str, ends_on: date | None) -> None:
    """The DPO's choice when completing a restriction request: a ground of art. 18(1); a last day, required
    for the grounds that last only while something is checked, and not in the past."""
    if ground not in Ground.values:
        raise ApplicationError(str(GROUND_REQUIRED), extra={"field": "ground"})
    if ends_on is None and ground in Restriction.GROUNDS_WITH_END:
        raise ApplicationError(str(END_REQUIRED), extra={"field": "ends_on"})
    if ends_on is not None and ends_on < localdate():
        raise ApplicationError(str(END_IN_PAST), extra={"field": "ends_on"})


def restriction_record(*, request: DataSubjectRequest, ground: str, ends_on: date | None, actor: Any) -> Restriction:
    """Record the decision on a restriction request (dsr_request_complete calls it in its transaction, after
    the marks). A person already restricted keeps one active restriction: the new decision replaces its
    ground and end, and a notice of the lift given (or asked for) under the old terms goes as when the end date
    moves (`_lift_notice_withdraw`): the lift waits for a new notice, and the person is e-mailed after the commit
    that the restriction continues. Audited with ids, dates and codes only."""
    restriction_terms_check(ground=ground, ends_on=ends_on)
    restriction = (Restriction.objects.select_for_update()
                   .filter(user_id=request.user_id, lifted_at__isnull=True).first())
    withdrawal: dict = {}
    if restriction is None:
        restriction = Restriction(user_id=request.user_id, started_at=now())
    else:
        withdrawal = _lift_notice_withdraw(restriction, by=Restriction.NoticeWithdrawal.NEW_DECISION)[1]
    restriction.request, restriction.ground, restriction.ends_on = request, ground, ends_on
    restriction.reminder_stage = ReminderStage.NONE
    restriction.full_clean(validate_constraints=False)  # the lock above keeps it the one active row
    restriction.save()
    audit_record(actor=actor, action="dsr.restriction_terms", purpose=DSR_PURPOSE, target_type="user",
                 target_id=request.user_id,
                 extra={"restriction": restriction.pk, "request": request.pk, "ground": ground,
                        "ends_on": ends_on.isoformat() if ends_on else None, **withdrawal})
    _continuation_notice_queue(withdrawal, restriction.user_id)
    return restriction


# --- the end date, moved ---------------------------------------------------------------------------------

def _end_change_allowed(restriction: Restriction, ends_on: date | None, reason: str) -> None:
    """The rules of recording, on the restriction's own ground (restriction_terms_check), plus a real change and a
    reason of EndChangeReason."""
    if not restriction.ground:
        raise ApplicationError(str(NO_GROUND), extra={"field": "ground"})
    restriction_terms_check(ground=restriction.ground, ends_on=ends_on)
    if ends_on == restriction.ends_on:
        raise ApplicationError(str(END_UNCHANGED), extra={"field": "ends_on"})
    if reason not in Restriction.EndChangeReason.values:
        raise ApplicationError(str(END_REASON_INVALID), extra={"field": "reason"})


def restriction_end_change_check(*, restriction: Restriction, ends_on: date | None, reason: str) -> None:
    """The rules of `restriction_end_change`, so the page names the field before it asks to confirm. Writes nothing."""
    with transaction.atomic():
        _end_change_allowed(_locked_active(restriction), ends_on, reason)


def user_has_email(user_id: int) -> bool:
    """Whether the person has an e-mail address to be told at, without reading it: an empty one ("", or spaces)
    is none. The blind index is over the trimmed, lower-cased address, so an empty one has the index of "". The one
    rule for the services here and the tasks that send the e-mails (restriction_mail.py)."""
    empty = User._meta.get_field("email_index").index_of("")
    return User.objects.filter(pk=user_id, email__isnull=False).exclude(email_index=empty).exists()


def restriction_continuation_by_email(*, restriction: Restriction) -> bool:
    """Whether moving the end date (or a new decision) now would e-mail the person that the restriction continues:
    they were told of the lift, and have an address. For the DPO's pages; reads no address, only whether there is
    one."""
    return restriction.lift_notice_sent_at is not None and user_has_email(restriction.user_id)


@transaction.atomic
def restriction_end_change(*, restriction: Restriction, ends_on: date | None, reason: str, actor: Any) -> Restriction:
    """The DPO moves the last day of an active restriction (extends or shortens it; or, for a ground that needs
    none, sets or removes it), with a reason code. Ground and request stand; the reminders start again for the new
    date. A notice of the lift the person was already given is withdrawn: it named a lift that no longer comes
    then, so the lift waits for a new notice (art. 18(3)), and the person is e-mailed after the commit that the
    restriction continues (`_lift_notice_withdraw`). Without a notice given or asked for, only the date changes.
    Audited with ids, dates and codes only."""
    restriction = _locked_active(restriction)
    _end_change_allowed(restriction, ends_on, reason)
    before = restriction.ends_on
    restriction.ends_on, restriction.reminder_stage = ends_on, ReminderStage.NONE
    fields, withdrawal = _lift_notice_withdraw(restriction, by=Restriction.NoticeWithdrawal.END_CHANGE)
    restriction.full_clean(validate_constraints=False)  # the row lock keeps it the one active row
    restriction.save(update_fields=["ends_on", "reminder_stage", *fields])
    audit_record(actor=actor, action="dsr.restriction_end_change", purpose=DSR_PURPOSE, target_type="user",
                 target_id=restriction.user_id,
                 extra={"restriction": restriction.pk, "reason": reason,
                        "ends_on_before": before.isoformat() if before else None,
                        "ends_on": ends_on.isoformat() if ends_on else None, **withdrawal})
    _continuation_notice_queue(withdrawal, restriction.user_id)
    return restriction


# --- a notice of the lift, withdrawn when the terms change -----------------------------------------------

def _lift_notice_withdraw(restriction: Restriction, *, by: str) -> tuple[list[str], dict]:
    """The terms of a locked active restriction change (`by`: a moved end date, a new decision), so a notice of the
    lift given or asked for under the old ones named a lift that no longer comes then (art. 18(3)). A notice given
    is withdrawn: the lift waits for a new one, and the person is due an e-mail that the restriction continues
    (`_continuation_notice_queue` sends it after the commit), or, without an address, the DPO's page says to tell
    them another way. A notice asked for and not sent yet is called off: its task, when it runs, finds it
    withdrawn. Sets the fields without saving; returns their names and the audit entry's dates and codes (both
    empty when no notice was given or asked for)."""
    told_at, asked_at = restriction.lift_notice_sent_at, restriction.lift_notice_asked_at
    if told_at is None and asked_at is None:
        return [], {}
    fields = ["lift_notice_asked_at", "lift_notice_sent_at", "lift_notice_channel", "lift_notice_withdrawn_at",
              "lift_notice_withdrawn_by"]
    if told_at is not None:
        by_email = user_has_email(restriction.user_id)
        extra = {"notice_withdrawn": told_at.isoformat(), "notice_withdrawn_channel": restriction.lift_notice_channel,
                 "continuation_notice": "email" if by_email else "no_email"}
        fields.append("continuation_notice_due_at")
    else:
        extra = {"notice_called_off": asked_at.isoformat()}
    # The asked-for time goes too: else the reaper would send the old notice again, and the list show it asked.
    restriction.lift_notice_asked_at, restriction.lift_notice_sent_at, restriction.lift_notice_channel = None, None, ""
    restriction.lift_notice_withdrawn_at, restriction.lift_notice_withdrawn_by = now(), by
    if told_at is not None:
        # Without an address nobody is e-mailed: the DPO's page says to tell the person another way.
        restriction.continuation_notice_due_at = restriction.lift_notice_withdrawn_at if by_email else None
    return fields, extra


def _continuation_notice_queue(withdrawal: dict, user_id: int) -> None:
    """After the commit, the e-mail that the restriction continues, when `_lift_notice_withdraw` made one due."""
    if withdrawal.get("continuation_notice") != "email":
        return
    from ..tasks import restriction_continuation_notice_task  # lazy: the services-to-tasks pair

    # A broker outage must not fail the change, nor lose the e-mail: restriction_notices_requeue sends it again.
    enqueue_after_commit(restriction_continuation_notice_task, user_id)


# --- the lift: notice first ------------------------------------------------------------------------------

def _locked_active(restriction: Restriction) -> Restriction:
    locked = Restriction.objects.select_for_update().get(pk=restriction.pk)
    if User.objects.filter(pk=locked.user_id, anonymised_at__isnull=False).exists():
        raise ApplicationError(str(ERASED), extra={"field": "account"})
    if locked.lifted_at is not None:
        raise ApplicationError(str(NOT_ACTIVE), extra={"field": "lifted_at"})
    return locked


# How the DPO may record that the person was told another way than by our e-mail (which records itself).
OTHER_CHANNELS = frozenset(Restriction.NoticeChannel.values) - {Restriction.NoticeChannel.EMAIL}


def restriction_step_check(*, restriction: Restriction, step: str, channel: str = "") -> None:
    """The rules of the notice ("notify"), the notice given another way ("record") and the lift ("lift")
    steps, so the page names the field before it asks to confirm. Writes nothing."""
    with transaction.atomic():
        locked = _locked_active(restriction)
        if step == "notify":
            _notice_allowed(locked)
        elif step == "record":
            _recorded_notice_allowed(locked, channel)
        else:
            _lift_allowed(locked)


def _lift_allowed(restriction: Restriction) -> None:
    """Art. 18(3): only after a notice, and one given since the terms last changed (a moved end date, or a new
    decision, withdraws it)."""
    if restriction.lift_notice_sent_at is None:
        message = NOTICE_NOT_SENT
        if restriction.lift_notice_withdrawn_at is not None:
            by_decision = restriction.lift_notice_withdrawn_by == Restriction.NoticeWithdrawal.NEW_DECISION
            message = NOTICE_WITHDRAWN_BY_DECISION if by_decision else NOTICE_WITHDRAWN
        raise ApplicationError(str(message), extra={"field": "lift_notice_sent_at"})


def _notice_allowed(restriction: Restriction) -> None:
    if restriction.lift_notice_sent_at is not None:
        raise ApplicationError(str(NOTICE_ALREADY_SENT), extra={"field": "lift_notice_sent_at"})
    if not user_has_email(restriction.user_id):
        raise ApplicationError(str(NO_EMAIL), extra={"field": "email"})


def _recorded_notice_allowed(restriction: Restriction, channel: str) -> None:
    if restriction.lift_notice_sent_at is not None:
        raise ApplicationError(str(NOTICE_ALREADY_SENT), extra={"field": "lift_notice_sent_at"})
    if channel not in OTHER_CHANNELS:
        raise ApplicationError(str(CHANNEL_INVALID), extra={"field": "channel"})


@transaction.atomic
def restriction_lift_notice_record(*, restriction: Restriction, channel: str, actor: Any) -> Restriction:
    """The DPO's record that the person was told of the lift another way (a letter, a call, in person): for a
    person without an e-mail address, or one the DPO reached otherwise. Recorded as told now, with the channel's
    code; the lift may follow."""
    restriction = _locked_active(restriction)
    _recorded_notice_allowed(restriction, channel)
    restriction.lift_notice_sent_at, restriction.lift_notice_channel = now(), channel
    restriction.save(update_fields=["lift_notice_sent_at", "lift_notice_channel"])
    audit_record(actor=actor, action="dsr.restriction_notice_recorded", purpose=DSR_PURPOSE, target_type="user",
                 target_id=restriction.user_id, extra={"restriction": restriction.pk, "channel": channel})
    return restriction


@transaction.atomic
def restriction_lift_notice_request(*, restriction: Restriction, actor: Any) -> Restriction:
    """The DPO's step "tell the person": the e-mail goes from a task after the commit, which records when."""
    restriction = _locked_active(restriction)
    _notice_allowed(restriction)
    restriction.lift_notice_asked_at = now()
    restriction.save(update_fields=["lift_notice_asked_at"])
    audit_record(actor=actor, action="dsr.restriction_notice_request", purpose=DSR_PURPOSE, target_type="user",
                 target_id=restriction.user_id, extra={"restriction": restriction.pk})
    from ..tasks import restriction_lift_notice_task  # lazy: the services-to-tasks pair (tasks import this)

    # A broker outage must not fail the request, nor lose the e-mail: restriction_notices_requeue sends it again.
    enqueue_after_commit(restriction_lift_notice_task, restriction.user_id)
    return restriction


@transaction.atomic
def restriction_lift(*, restriction: Restriction, actor: Any) -> Restriction:
    """The DPO's step "lift": only after the notice was recorded as sent. Clears the marks and closes the row."""
    restriction = _locked_active(restriction)
    _lift_allowed(restriction)
    user = User.objects.select_for_update().get(pk=restriction.user_id)
    counts = dsr_restriction_lift(user=user, actor=actor)
    restriction.lifted_at = now()
    restriction.save(update_fields=["lifted_at"])
    audit_record(actor=actor, action="dsr.restriction_lifted", purpose=DSR_PURPOSE, target_type="user",
                 target_id=user.pk, extra={"restriction": restriction.pk, "ground": restriction.ground,
                        "notice_sent_at": restriction.lift_notice_sent_at.isoformat(),
                        "notice_channel": restriction.lift_notice_channel, **counts})
    return restriction


def restriction_export_fields(user: Any) -> dict:
    """The person's own export (the profile section): whether their processing is restricted, since when, on
    what ground, until when. An account's own data, read by the profile's exporter."""
    since = user.restricted_at
    active = Restriction.objects.filter(user_id=user.pk, lifted_at__isnull=True).first() if since else None
    return {"restricted": since is not None,
            "restricted_since": since.isoformat() if since else None,
            "restriction_ground": active.ground if active else "",
            "restricted_until": active.ends_on.isoformat() if active and active.ends_on else None}
