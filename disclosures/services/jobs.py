"""Scheduled work of the disclosures app, run by beat (tasks.py) and by the daily purge (the package
purger registered in sections.py). Each job picks its rows by a due date, handles each once (a
timestamp marks it done), audits by pk and returns a count; mails name request and notice ids only."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.timezone import localdate, now as tz_now
from django.utils.translation import gettext, ngettext

from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import RETENTION_PURPOSE, Purpose

from ..models import OPEN_STATUSES, DisclosureRequest, Notice, Package, Status
from ..stored import stored_package_lock
from .checks import officers_mail, request_audit
from .holds import request_hold_release


def _deadlines_mail(ids: list[int], hours: int) -> tuple[str, str]:
    subject = ngettext("[VoIPXS] %(count)d disclosure request near its deadline",
                       "[VoIPXS] %(count)d disclosure requests near their deadline", len(ids)) % {"count": len(ids)}
    line = ngettext("Disclosure request #%(number)s is due within %(hours)d hour.",
                    "Disclosure request #%(number)s is due within %(hours)d hours.", hours)
    return subject, "\n".join(line % {"number": pk, "hours": hours} for pk in ids)


def _secrecy_mail(ids: list[tuple[int, int]]) -> tuple[str, str]:
    line = gettext("Request #%(number)s: the secrecy order has ended; notice #%(notice)s can now be sent.")
    return (gettext("[VoIPXS] Secrecy orders ended: notices to send"),
            "\n".join(line % {"number": req, "notice": pk} for pk, req in ids))


def _drafts_mail(ids: list[tuple[int, int]]) -> tuple[str, str]:
    line = gettext("Request #%(number)s: notice #%(notice)s to the user is a draft not yet sent; review it and send "
                   "it.")
    return (gettext("[VoIPXS] Draft notices to send"),
            "\n".join(line % {"number": req, "notice": pk} for pk, req in ids))


def _reviews_mail(ids: list[int]) -> tuple[str, str]:
    line = gettext("Request #%(number)s: the notice to the user is withheld; review that decision now.")
    return gettext("[VoIPXS] Withheld notices to review"), "\n".join(line % {"number": pk} for pk in ids)


def disclosure_holds_release_due(*, now: datetime | None = None, actor=None) -> int:
    """Release the holds of requests closed (or rejected, withdrawn) longer ago than the grace period."""
    moment = now or tz_now()
    done = 0
    due = DisclosureRequest.objects.filter(hold_release_due_at__lte=moment, hold_released_at__isnull=True)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            req = DisclosureRequest.objects.select_for_update().get(pk=pk)
            if req.hold_released_at is not None:
                continue
            request_hold_release(req=req, actor=actor)
            req.hold_released_at = moment
            req.save(update_fields=["hold_released_at"])
            request_audit(actor=actor, action="hold_release", req=req, hold=req.hold_id)
            done += 1
    return done


def disclosure_deadlines_escalate(*, now: datetime | None = None, hours: int | None = None, actor=None) -> int:
    """E-mail the legal officers about open requests due within `hours` (once per request)."""
    moment = now or tz_now()
    hours = settings.DISCLOSURE_ESCALATION_HOURS if hours is None else hours
    due = DisclosureRequest.objects.filter(status__in=OPEN_STATUSES - {Status.DELIVERED}, escalated_at__isnull=True,
                                           deadline__lte=moment + timedelta(hours=hours)).order_by("deadline", "pk")
    # Locked while mailed: a second run at the same time (beat firing twice) waits, then finds them escalated.
    with transaction.atomic():
        reqs = list(due.select_for_update())
        ids = [req.pk for req in reqs]
        if not ids or not officers_mail(lambda: _deadlines_mail(ids, hours), count=len(ids), what="deadline"):
            return 0
        for req in reqs:
            req.escalated_at = moment
            req.save(update_fields=["escalated_at"])
            request_audit(actor=actor, action="escalate", req=req, hours=hours)
    return len(ids)


def disclosure_secrecy_reminders(*, now: datetime | None = None, actor=None) -> int:
    """Remind the legal officers of withheld notices whose secrecy order has ended (once each)."""
    moment = now or tz_now()
    # A request whose notice is withheld by decision waits for its review date instead (below).
    due = Notice.objects.filter(state=Notice.State.WITHHELD, reminded_at__isnull=True,
                                withheld_until__lte=localdate(moment), request__notice_user=True)
    return _notices_remind(due, compose=_secrecy_mail, action="disclosure.secrecy_reminder", moment=moment,
                           actor=actor)


def disclosure_notice_drafts_remind(*, now: datetime | None = None, actor=None) -> int:
    """Remind the legal officers of draft notices not sent DISCLOSURE_NOTICE_DRAFT_REMIND_DAYS after delivery (once
    each): a civil or dispute case's user is to be told, and the draft waits for an officer to review and send it."""
    moment = now or tz_now()
    due = Notice.objects.filter(state=Notice.State.DRAFT, reminded_at__isnull=True, request__notice_user=True,
                                created_at__lte=moment - timedelta(days=settings.DISCLOSURE_NOTICE_DRAFT_REMIND_DAYS))
    return _notices_remind(due, compose=_drafts_mail, action="disclosure.notice_draft_reminder", moment=moment,
                           actor=actor)


def _notices_remind(due, *, compose: Callable[[list[tuple[int, int]]], tuple[str, str]], action: str,
                    moment: datetime, actor) -> int:
    """Mail the officers about the notices `due` (their ids and their requests' only), mark them reminded, audit."""
    with transaction.atomic():  # locked while mailed, as above
        ids = list(due.select_for_update().order_by("request_id", "pk").values_list("pk", "request_id"))
        if not ids or not officers_mail(lambda: compose(ids), count=len(ids), what=action):
            return 0
        Notice.objects.filter(pk__in=[pk for pk, _ in ids]).update(reminded_at=moment)
        for pk, req_id in ids:
            audit_record(actor=actor, action=action, purpose=Purpose.LEGAL_OBLIGATION,
                         target_type="disclosure_request", target_id=req_id, extra={"notice": pk})
    return len(ids)


def disclosure_notice_reviews_remind(*, now: datetime | None = None, actor=None) -> int:
    """Remind the legal officers of requests whose decision to withhold the notice to the user is due for
    review (notice_review_on has come), once per decision: a new decision sets a new date and reminds again."""
    moment = now or tz_now()
    due = (DisclosureRequest.objects.filter(notice_user=False, notice_review_reminded_at__isnull=True,
                                            notice_review_on__lte=localdate(moment))
           .exclude(status__in=[Status.REJECTED, Status.WITHDRAWN]).order_by("notice_review_on", "pk"))
    with transaction.atomic():  # locked while mailed, as above
        ids = list(due.select_for_update().values_list("pk", flat=True))
        if not ids or not officers_mail(lambda: _reviews_mail(ids), count=len(ids), what="notice review"):
            return 0
        DisclosureRequest.objects.filter(pk__in=ids).update(notice_review_reminded_at=moment)
        for pk in ids:
            audit_record(actor=actor, action="disclosure.notice_review_reminder", purpose=Purpose.LEGAL_OBLIGATION,
                         target_type="disclosure_request", target_id=pk, extra={})
    return len(ids)


def disclosure_packages_purge(*, now: datetime | None = None, dry_run: bool = False) -> dict:
    """Retention of delivered packages: their files (and the envelopes made of them) go
    DISCLOSURE_PACKAGE_RETENTION_DAYS after delivery; the request record and the manifest (hashes, counts; no
    data) stay as accountability."""
    moment = now or tz_now()
    due = Package.objects.filter(state=Package.State.SEALED, delete_after__lte=moment)
    if dry_run:
        return {"deleted": due.count()}
    deleted = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            stored_package_lock(pk)  # the reads under way end first (stored.py), then the row (see there)
            package = Package.objects.select_for_update().get(pk=pk)
            if package.state != Package.State.SEALED:
                continue
            package.files.all().delete()
            package.envelopes.all().delete()
            package.state, package.deleted_at = Package.State.DELETED, moment
            package.save(update_fields=["state", "deleted_at"])
            audit_record(actor=None, action="disclosure.package_purge", purpose=RETENTION_PURPOSE,
                         target_type="disclosure_request",
                         target_id=package.request_id, extra={"package": package.pk})
            deleted += 1
    return {"deleted": deleted}
