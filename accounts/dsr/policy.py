"""Privacy-policy versions and the notice of a substantive change (services and selectors)."""
from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, Subquery, When
from django.utils.timezone import localdate, now
from django.utils.translation import gettext as _, gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.mail import mail_address, person_language
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import TRANSPARENCY_PURPOSE
from voipxs.queue import enqueue_after_commit, resend_cutoff, tasks_resend
from voipxs.views import policy_blocks

from ..models import User
from .models import PolicyNoticeSeen, PolicyVersion

VERSION_TAKEN = gettext_noop("This version number is already used.")
VERSION_REQUIRED = gettext_noop("Give the version number.")
SUMMARY_REQUIRED = gettext_noop("Summarise what changed.")
TEXT_REQUIRED = gettext_noop("Paste the full text of the policy.")
TEXT_NL_BLANK = gettext_noop("Paste the full text of the policy in Dutch, or leave the field empty.")
SUMMARY_NL_NEEDED = gettext_noop("Summarise what changed in Dutch too: Dutch readers see the summary in the notice "
                                 "above every page.")
SUMMARY_NL_BLANK = gettext_noop("Summarise what changed in Dutch, or leave the field empty.")
TEXT_NL_ARTICLES = gettext_noop("The Dutch text must have the same articles as the English: %(english)s in English, "
                                 "%(dutch)s in Dutch.")
ALREADY_PUBLISHED = gettext_noop("This version is already published.")
EMAIL_BATCH = 200


class PolicyNoticeMailError(RuntimeError):
    """A batch of policy e-mails failed. Its message names ids and the error class only: smtplib's own
    exceptions quote the recipients' addresses, and Celery logs (and stores) whatever a task raises. `cursor`:
    the last user mailed before the failure, where the retry goes on."""

    cursor: int = 0


@transaction.atomic
def policy_version_create(*, version: str, summary: str, text: str, substantive: bool, actor: Any,
                          text_nl: str | None = None, summary_nl: str | None = None) -> PolicyVersion:
    """A draft version. `text` is the policy in English; `text_nl` the same policy in Dutch, optional (None: the
    page shows Dutch readers the English, saying so), but a text given must not be blank, as the English.
    `summary_nl`: what changed, in Dutch, for the notice and the e-mail; required with a Dutch text (a Dutch reader
    of a translated policy is told of it in Dutch), optional without one."""
    for value, message, field in ((version, VERSION_REQUIRED, "version"), (summary, SUMMARY_REQUIRED, "summary"),
                                  (text, TEXT_REQUIRED, "text"), (text_nl, TEXT_NL_BLANK, "text_nl"),
                                  (summary_nl, SUMMARY_NL_BLANK, "summary_nl")):
        if value is not None and not value.strip():
            raise ApplicationError(message, extra={"field": field})
    if text_nl is not None and summary_nl is None:
        raise ApplicationError(SUMMARY_NL_NEEDED, extra={"field": "summary_nl"})
    if PolicyVersion.objects.filter(version=version.strip()).exists():
        raise ApplicationError(VERSION_TAKEN, extra={"field": "version"})
    if text_nl is not None and _articles(text_nl) != _articles(text):  # one policy in two languages, article by article
        raise ApplicationError.formatted(TEXT_NL_ARTICLES, {"english": _articles(text) or "-",
                                                            "dutch": _articles(text_nl) or "-"}, field="text_nl")
    summaries = {"en": summary.strip(), "nl": summary_nl.strip()} if summary_nl is not None else {}
    pv = PolicyVersion.objects.create(version=version.strip(), summary=summary.strip(), summaries=summaries,
                                      text=text, text_nl=text_nl or "", substantive=substantive)
    audit_record(actor=actor, action="policy.create", purpose=TRANSPARENCY_PURPOSE, target_type="policy_version",
                 target_id=pv.pk)
    return pv


def _articles(text: str) -> str:
    """The article numbers of a policy text, in order ("1, 2, 3, 4"), as the page's contents list reads them."""
    return ", ".join(b["anchor"].removeprefix("article-") for b in policy_blocks(text) if b["kind"] == "heading")


@transaction.atomic
def policy_version_publish(*, policy: PolicyVersion, actor: Any, email_users: bool = False) -> PolicyVersion:
    pv = PolicyVersion.objects.select_for_update().get(pk=policy.pk)
    if pv.published_at is not None:
        raise ApplicationError(ALREADY_PUBLISHED)
    pv.published_at = now()
    if email_users and pv.substantive:
        pv.email_due_at = pv.published_at
    pv.save(update_fields=["published_at", "email_due_at"])
    audit_record(actor=actor, action="policy.publish", purpose=TRANSPARENCY_PURPOSE, target_type="policy_version",
                 target_id=pv.pk, extra={"substantive": pv.substantive, "email": email_users})
    if email_users and pv.substantive:
        from ..tasks import policy_notice_email_task  # lazy: the services-to-tasks pair (tasks import this module)

        # A broker outage must not fail the publication, which is stored: the warning logged names the
        # version, and the reaper sends the task again (policy_notices_requeue).
        enqueue_after_commit(policy_notice_email_task, pv.pk, 0)
    return pv


def policy_notice_email_batch(*, version_id: int, after_user_id: int) -> int | None:
    """E-mail one batch of active users (keyset by pk) about a version; returns the next cursor or None.

    Celery delivers a task at least once: a batch whose task comes again finds the version's cursor moved past
    `after_user_id` (or the version e-mailed) and sends nothing and queues nothing, so nobody is mailed twice and
    the chain is not started a second time. The version stays locked while its batch is sent: two deliveries at
    once wait for each other. The mail server refusing a message part-way (the Dutch readers' after the English
    readers' went out) keeps the cursor at the last person mailed, committed, and raises PolicyNoticeMailError
    with it (`cursor`): the retry goes on from there, and those already mailed are not mailed again."""
    cursor, failure = _policy_notice_batch_send(version_id=version_id, after_user_id=after_user_id)
    if failure is not None:
        # `from None`: the original (with the addresses) must not ride along as the cause in a traceback.
        error = PolicyNoticeMailError(f"policy version {version_id}: e-mail batch after user {after_user_id} failed "
                                      f"({type(failure).__name__})")
        error.cursor = cursor
        raise error from None
    return cursor


@transaction.atomic
def _policy_notice_batch_send(*, version_id: int, after_user_id: int) -> tuple[int | None, Exception | None]:
    pv = PolicyVersion.objects.select_for_update().get(pk=version_id)
    if pv.emailed_at is not None or pv.email_cursor != after_user_id:
        return None, None
    users = list(User.objects.filter(is_active=True, pk__gt=after_user_id, email_index__isnull=False)
                 .order_by("pk")[:EMAIL_BATCH])
    texts: dict[str, tuple[str, str]] = {}  # per language: (subject, body)
    for language in {u.language for u in users}:
        texts[language] = _policy_notice_text(pv, language)
    cursor = after_user_id
    try:
        with get_connection(fail_silently=False) as connection:
            for user in users:
                if to := mail_address(user.email):  # only spaces is no address
                    connection.send_messages([EmailMessage(*texts[user.language], settings.DEFAULT_FROM_EMAIL, [to])])
                cursor = user.pk  # mailed (or nothing to mail): recorded below even if a later message fails
    except (smtplib.SMTPException, OSError) as exc:
        PolicyVersion.objects.filter(pk=pv.pk).update(email_cursor=cursor)
        return cursor, exc
    if len(users) < EMAIL_BATCH:
        PolicyVersion.objects.filter(pk=pv.pk).update(emailed_at=now(), email_cursor=cursor, email_due_at=None)
        audit_record(actor=None, action="policy.emailed", purpose=TRANSPARENCY_PURPOSE,
                     target_type="policy_version", target_id=pv.pk)
        return None, None
    PolicyVersion.objects.filter(pk=pv.pk).update(email_cursor=cursor, email_due_at=now() if pv.email_due_at else None)
    return cursor, None


def policy_notices_requeue(*, at=None) -> list[int]:
    """Beat: send again, from its cursor, the e-mail of every version whose batches have not moved on for
    TASK_RESEND_AFTER_SECONDS (its next task was lost, or the mail server refused a batch through every retry).
    A batch sent twice mails nobody twice (the cursor). Stops at the first send the broker refuses. Returns the
    version ids sent."""
    from ..tasks import policy_notice_email_task

    waiting = (PolicyVersion.objects.filter(email_due_at__lt=resend_cutoff(at), emailed_at__isnull=True)
               .order_by("pk").values_list("pk", "email_cursor"))
    return tasks_resend(policy_notice_email_task, list(waiting))


def _policy_notice_text(pv: PolicyVersion, language: str) -> tuple[str, str]:
    """Subject and body in the person's language, with the summary in it where the version has one. A person who
    never chose a language gets every summary the version has (one per language where it has them)."""
    if language:
        summary = pv.summaries.get(language, pv.summary)
    else:
        summary = "\n\n".join(dict.fromkeys(pv.summaries.values())) if pv.summaries else pv.summary
    with person_language(language):
        subject = _("VoIPXS has changed its privacy policy (version %(version)s)") % {"version": pv.version}
        body = _("We have changed our privacy policy. What changed:\n\n%(summary)s\n\nRead it at %(url)s\n") % {
            "summary": summary, "url": getattr(settings, "SITE_URL", "").rstrip("/") + "/privacy/"}
    return subject, body


@transaction.atomic
def policy_version_generated(*, summaries: dict[str, str], substantive: bool, actor: Any) -> PolicyVersion:
    """A version the system publishes when a part of the policy page it generates changes (a retention
    period: retention.services): the typed text, English and Dutch, stays as the newest version has it, the
    summary says what changed (`summaries`: per language; the e-mail gives them all), and users are told as for
    any version (the notice, and an e-mail, when substantive). Its number is the day and a counter ("2026-12-06.1")."""
    current = PolicyVersion.objects.select_for_update().filter(published_at__isnull=False).order_by(
        "-published_at", "-pk").first()
    day = localdate(now()).isoformat()  # the day users read the version by, in Amsterdam
    taken = set(PolicyVersion.objects.filter(version__startswith=f"{day}.").values_list("version", flat=True))
    version = next(f"{day}.{n}" for n in range(1, len(taken) + 2) if f"{day}.{n}" not in taken)
    pv = PolicyVersion.objects.create(version=version, summary="\n\n".join(dict.fromkeys(summaries.values())),
                                      summaries=summaries, substantive=substantive,
                                      text=current.text if current is not None else "",
                                      text_nl=current.text_nl if current is not None else "")
    audit_record(actor=actor, action="policy.create", purpose=TRANSPARENCY_PURPOSE, target_type="policy_version",
                 target_id=pv.pk, extra={"generated": True})
    return policy_version_publish(policy=pv, actor=actor, email_users=substantive)


def policy_current() -> PolicyVersion | None:
    return PolicyVersion.objects.filter(published_at__isnull=False).order_by("-published_at", "-pk").first()


def policy_history() -> list[PolicyVersion]:
    return list(PolicyVersion.objects.filter(published_at__isnull=False).order_by("-published_at", "-pk"))


def _newest_unseen(user_ref: Any, joined_ref: Any):
    """The newest substantive version published since the user joined, as its id if they have not
    seen it and NULL otherwise (an older unseen one does not count: the newest supersedes it)."""
    seen = PolicyNoticeSeen.objects.filter(user_id=user_ref, version=OuterRef("pk"))
    return (PolicyVersion.objects.filter(published_at__isnull=False, substantive=True, published_at__gt=joined_ref)
            .annotate(unseen=Case(When(Exists(seen), then=None), default=F("pk"))).order_by("-published_at", "-pk"))


def policy_notice_subquery() -> Subquery:
    """`_newest_unseen` as a column of a query of users (accounts.middleware reads it with the roles)."""
    return Subquery(_newest_unseen(OuterRef(OuterRef("pk")), OuterRef("date_joined")).values("unseen")[:1])


_NOT_READ = object()


def policy_notice_remember(user: Any, version_id: int | None) -> None:
    """Remember what the roles query found, so the page's notice asks no query of its own."""
    user._voipxs_policy_notice = version_id


def policy_notice_for(*, user: Any) -> PolicyVersion | None:
    """The newest substantive version published since the user joined, if they have not seen it."""
    if not getattr(user, "is_authenticated", False):
        return None
    remembered = getattr(user, "_voipxs_policy_notice", _NOT_READ)
    if remembered is None:
        return None  # the common case: read with the roles, nothing to show, no query
    if remembered is not _NOT_READ:
        return PolicyVersion.objects.filter(pk=remembered).first()
    # One query (staff pages, whose roles are read elsewhere): the newest version, if unseen.
    unseen = _newest_unseen(user.pk, user.date_joined).values_list("unseen", flat=True).first()
    return PolicyVersion.objects.filter(pk=unseen).first() if unseen is not None else None


def policy_notice_seen(*, user: Any) -> int:
    """Opening the policy page: every published substantive version counts as seen. Returns how many new."""
    if not getattr(user, "is_authenticated", False):
        return 0
    unseen = (PolicyVersion.objects.filter(published_at__isnull=False, substantive=True)
              .exclude(seen_by__user_id=user.pk))
    made = 0
    for pv in unseen:
        try:
            with transaction.atomic():
                PolicyNoticeSeen.objects.create(user_id=user.pk, version=pv)
                made += 1
        except IntegrityError:
            pass  # a second tab marked it in the same moment
    if made:
        audit_record(actor=user, action="policy.seen", purpose=TRANSPARENCY_PURPOSE, target_type="user",
                     target_id=user.pk)
    return made
