"""The notice of an extension (GDPR art. 12(3)): a request's deadline may move by two months only with a reason
the person is told before the original deadline. The portal shows it on the request; this e-mails it too, so that
a person who does not look at the portal learns of it in time. The notice is stored as due with the extension
(`DataSubjectRequest.extension_notice_due_at`), sent by a task after the commit, and sent again by the reaper
(accounts.tasks.person_notices_requeue_task) if the broker lost it. Audit entries carry ids only."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime, now
from django.utils.translation import gettext

from voipxs.mail import mail_address, person_language, person_mail_send
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, SystemActor
from voipxs.queue import enqueue_after_commit, resend_cutoff, tasks_resend

from .models import DataSubjectRequest
from .selectors import notice_recipient_get

# Art. 12(3) is a legal obligation: the person is read (for their address) under it, as for a restriction's lift.
NOTICE_ACTOR = SystemActor("dsr_extension_notices", frozenset({Purpose.LEGAL_OBLIGATION}))


class ExtensionNoticeMailError(RuntimeError):
    """The notice could not be sent; names the request id and the error class only (voipxs/mail.py)."""


def extension_notice_queue(req: DataSubjectRequest) -> None:
    """Inside the extension's transaction: the notice is due from now, and its task goes after the commit."""
    from ..tasks import dsr_extension_notice_task  # lazy: the services-to-tasks pair (tasks import this)

    DataSubjectRequest.objects.filter(pk=req.pk).update(extension_notice_due_at=now())
    enqueue_after_commit(dsr_extension_notice_task, req.pk)


def extension_notices_requeue(*, at=None) -> list[int]:
    """Beat: send again every extension notice still due TASK_RESEND_AFTER_SECONDS after the extension. Stops at
    the first send the broker refuses. Returns the request ids sent."""
    from ..tasks import dsr_extension_notice_task

    cutoff = resend_cutoff(at)
    due = (DataSubjectRequest.objects.filter(extension_notice_due_at__lt=cutoff).order_by("pk")
           .values_list("pk", flat=True))
    return tasks_resend(dsr_extension_notice_task, [(pk,) for pk in due])


@transaction.atomic
def extension_notice_send(*, request_id: int) -> bool:
    """E-mail the person the reason and the new deadline, then the notice is no longer due. False when it is not
    due (sent already) or there is nobody to tell by e-mail (no address, erased), which ends it too."""
    req = (DataSubjectRequest.objects.select_for_update()
           .filter(pk=request_id, extension_notice_due_at__isnull=False).first())
    if req is None:
        return False
    try:
        user = notice_recipient_get(actor=NOTICE_ACTOR, user_id=req.user_id)
    except Http404:
        user = None
    to = mail_address(user.email) if user is not None else ""  # only spaces is no address
    if to:
        url = getattr(settings, "SITE_URL", "").rstrip("/") + reverse("accounts_dsr:mine")
        with person_language(user.language):  # the kind and the date too: "1 juli 2026" in Dutch
            subject = gettext("Your privacy request #%(number)s takes longer") % {"number": req.pk}
            body = gettext("We need more time to answer your request #%(number)s (%(kind)s). We will answer by "
                           "%(deadline)s.\n\nThe reason: %(reason)s\n\nYou can follow your request under Your "
                           "privacy: %(url)s\n") % {
                "number": req.pk, "kind": req.get_kind_display(), "reason": req.extension_reason,
                "deadline": date_format(localtime(req.deadline), "DATE_FORMAT"), "url": url}
        person_mail_send(user_id=req.user_id, to=to, subject=subject, body=body, what="extension notice",
                         error=ExtensionNoticeMailError)
        audit_record(actor=NOTICE_ACTOR, action="dsr.extension_notice", purpose=Purpose.LEGAL_OBLIGATION,
                     target_type="dsr", target_id=req.pk)
    DataSubjectRequest.objects.filter(pk=req.pk).update(extension_notice_due_at=None)
    return bool(to)
