"""Restriction (GDPR art. 18): the e-mails to the person, sent by tasks after the DPO's steps (restriction.py).

The notice that the restriction will be lifted (`restriction_lift_notice_send`, asked for by
`restriction_lift_notice_request`), which art. 18(3) requires before the lift, and the notice that it continues
(`restriction_continuation_notice_send`), after `restriction_end_change` moved the last day of a restriction
whose lift the person had been told of, or `restriction_record` recorded a new decision on it. A beat job sends again what the broker lost
(`restriction_notices_requeue`). The texts name the ground, the date and where to ask: no name, number or
address; the audit entries carry ids and dates only.
"""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.timezone import now
from django.utils.translation import gettext

from voipxs.mail import mail_address, mail_date, person_language, person_mail_send
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, SystemActor
from voipxs.queue import resend_cutoff, tasks_resend

from ..models import User
from .models import Restriction
from .restriction import user_has_email
from .selectors import notice_recipient_get

Ground = Restriction.Ground

# The notice reads the person's address through the accounts selector, as this system actor: art. 18(3) is
# a legal obligation, the one purpose besides disputes that still sees a restricted person (art. 18(2)).
NOTICE_ACTOR = SystemActor("restriction_notices", frozenset({Purpose.LEGAL_OBLIGATION}))


class RestrictionNoticeMailError(RuntimeError):
    """The notice could not be sent. Names the user id and the error class only: smtplib's exceptions quote
    the recipient's address, and Celery logs (and stores) what a task raises."""


def restriction_notices_requeue(*, at=None) -> list[int]:
    """Beat: send again every notice of a lift asked for TASK_RESEND_AFTER_SECONDS ago and not sent, then every
    notice that a restriction continues still due that long (the broker was down, or lost the task). Stops at the
    first send the broker refuses. Returns the user ids sent."""
    from ..tasks import restriction_continuation_notice_task, restriction_lift_notice_task

    cutoff = resend_cutoff(at)
    waiting = list(Restriction.objects.filter(lift_notice_asked_at__lt=cutoff, lift_notice_sent_at__isnull=True,
                                              lifted_at__isnull=True).order_by("pk").values_list("user_id", flat=True))
    sent = tasks_resend(restriction_lift_notice_task, [(user_id,) for user_id in waiting])
    if len(sent) < len(waiting):  # the broker refused one: it is still down, the next run tries again
        return sent
    continuing = (Restriction.objects.filter(continuation_notice_due_at__lt=cutoff, lifted_at__isnull=True)
                  .order_by("pk").values_list("user_id", flat=True))
    return sent + tasks_resend(restriction_continuation_notice_task, [(user_id,) for user_id in continuing])


def restriction_lift_notice_send(*, user_id: int) -> bool:
    """E-mail the person that their restriction will be lifted, and record when (the task's body). False when
    there is nothing to tell: no active restriction, notice already recorded, erased, or no address."""
    with transaction.atomic():
        restriction = (Restriction.objects.select_for_update()
                       .filter(user_id=user_id, lifted_at__isnull=True, lift_notice_sent_at__isnull=True)
                       # A late copy of the task of a notice the end date's move withdrew: not asked for again.
                       .exclude(lift_notice_withdrawn_at__isnull=False, lift_notice_asked_at__isnull=True).first())
        if restriction is None:
            return False
        try:
            user = notice_recipient_get(actor=NOTICE_ACTOR, user_id=user_id)
        except Http404:
            user = None
        # Nobody to tell by e-mail (an address of only spaces is none, as for the services that queue this): the
        # DPO sees it still untold.
        if user is None or not user_has_email(user_id):
            restriction.lift_notice_asked_at = None
            restriction.save(update_fields=["lift_notice_asked_at"])
            return False
        _notice_mail(user=user, restriction=restriction)
        restriction.lift_notice_sent_at = now()
        restriction.lift_notice_channel = Restriction.NoticeChannel.EMAIL
        restriction.save(update_fields=["lift_notice_sent_at", "lift_notice_channel"])
        audit_record(actor=NOTICE_ACTOR, action="dsr.restriction_notice_sent", purpose=Purpose.LEGAL_OBLIGATION,
                     target_type="user", target_id=user_id, extra={"restriction": restriction.pk})
    return True


def _notice_mail(*, user: User, restriction: Restriction) -> None:
    """What the person needs and nothing more: that the restriction they asked for ends, on which ground it
    stood, where to ask. No name, number or address in the text."""
    url = getattr(settings, "SITE_URL", "").rstrip("/") + reverse("accounts_dsr:mine")
    with person_language(user.language):
        ground = Ground(restriction.ground).label if restriction.ground else gettext("restriction of processing")
        subject = gettext("The restriction of your data will be lifted")
        body = gettext("We restricted the processing of your data (GDPR art. 18) on this ground: %(ground)s.\n\n"
                       "We will lift this restriction soon. After that we process your data again as our privacy "
                       "policy describes.\n\nIf you have questions or do not agree, reply to this e-mail or go to "
                       "Your privacy: %(url)s\n") % {"ground": ground, "url": url}
    person_mail_send(user_id=user.pk, to=mail_address(user.email), subject=subject, body=body,
                     what="restriction notice", error=RestrictionNoticeMailError)


def restriction_continuation_notice_send(*, user_id: int) -> bool:
    """E-mail the person that the restriction they were told would be lifted continues, until its new last day or
    without one (the task's body), then it is no longer due. False when it is not due (sent already), there is
    nobody to tell by e-mail (no address, erased), or a new notice of the lift went since (this one would
    contradict it), each of which ends it too."""
    with transaction.atomic():
        restriction = (Restriction.objects.select_for_update()
                       .filter(user_id=user_id, lifted_at__isnull=True, continuation_notice_due_at__isnull=False)
                       .first())
        if restriction is None:
            return False
        user = None
        if restriction.lift_notice_sent_at is None:
            try:
                user = notice_recipient_get(actor=NOTICE_ACTOR, user_id=user_id)
            except Http404:
                pass
        sent = user is not None and user_has_email(user_id)  # the services' rule: spaces are no address
        if sent:
            _continuation_mail(user=user, restriction=restriction)
            audit_record(actor=NOTICE_ACTOR, action="dsr.restriction_continuation_sent",
                         purpose=Purpose.LEGAL_OBLIGATION, target_type="user", target_id=user_id,
                         extra={"restriction": restriction.pk,
                                "ends_on": restriction.ends_on.isoformat() if restriction.ends_on else None})
        restriction.continuation_notice_due_at = None
        restriction.save(update_fields=["continuation_notice_due_at"])
    return sent


def _continuation_mail(*, user: User, restriction: Restriction) -> None:
    """As the notice of the lift (_notice_mail), which it takes back: the ground, the new last day if there is
    one, where to ask. No name, number or address in the text."""
    url = getattr(settings, "SITE_URL", "").rstrip("/") + reverse("accounts_dsr:mine")
    with person_language(user.language):  # the date too: "4 februari 2027" in Dutch
        ground = Ground(restriction.ground).label if restriction.ground else gettext("restriction of processing")
        subject = gettext("The restriction of your data continues")
        if restriction.ends_on:
            body = gettext("We restricted the processing of your data (GDPR art. 18) on this ground: %(ground)s.\n\n"
                           "We told you that we would lift this restriction soon. That no longer applies: the "
                           "restriction now continues until %(date)s, its planned last day. Before we lift it, we will "
                           "tell you again.\n\nIf you have questions or do not agree, reply to this e-mail or go to "
                           "Your privacy: %(url)s\n") % {"ground": ground, "date": mail_date(restriction.ends_on),
                                                          "url": url}
        else:
            body = gettext("We restricted the processing of your data (GDPR art. 18) on this ground: %(ground)s.\n\n"
                           "We told you that we would lift this restriction soon. That no longer applies: the "
                           "restriction continues, for now without an end date. Before we lift it, we will tell you "
                           "again.\n\nIf you have questions or do not agree, reply to this e-mail or go to Your "
                           "privacy: %(url)s\n") % {"ground": ground, "url": url}
    person_mail_send(user_id=user.pk, to=mail_address(user.email), subject=subject, body=body,
                     what="restriction continuation notice", error=RestrictionNoticeMailError)
