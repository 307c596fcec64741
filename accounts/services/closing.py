"""Closing and anonymising accounts.

Closing (contract ended) stops every way in at once; the user data stays until retention's
closed_account period after the final invoice is settled, then the purge anonymises it
(retention/closed_accounts.py), closing the person's data-subject requests still open (nobody is left to answer).
Erasure (accounts/dsr/erasure.py) does both steps at once, with the same code.
A Contractor's contract ends the same way for all its Users at once (contractor_close); its own name and
invoice address go when the purge has anonymised the last of them (contractor_anonymise).
"""
from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django.utils.translation import gettext_noop
from knox.models import AuthToken

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import CONTRACT_PURPOSE, RETENTION_PURPOSE, Role, has_role
from voipxs.privacy.registry import Kept, kept_for

from ..dsr.export import user_exports_delete
from ..dsr.models import DataSubjectRequest
from ..dsr.open_requests import ClosedBy, open_requests_close, open_requests_lock
from ..dsr.representative import dsr_representative_erase
from ..dsr.texts import request_texts_erase
from ..models import AccountCloseReason, BillingAddress, Contractor, User, UserSession
from .numbers import phone_number_release
from .sign_in import login_attempts_forget

ACCOUNT_CLOSE_NOT_ALLOWED = gettext_noop("Only billing staff and administrators can close an account.")
ACCOUNT_CLOSE_SELF = gettext_noop("You cannot close your own account.")
ACCOUNT_ALREADY_CLOSED = gettext_noop("This account is already closed.")
ACCOUNT_CLOSE_REASON_UNKNOWN = gettext_noop("Choose one of the closing reasons.")
ACCOUNT_NOT_CLOSED = gettext_noop("Only a closed account can be anonymised.")
ACCOUNT_ALREADY_ANONYMISED = gettext_noop("This account is already anonymised.")
CONTRACTOR_ALREADY_CLOSED = gettext_noop("This contractor is already closed.")
CONTRACTOR_NOT_CLOSED = gettext_noop("Only a closed contractor can be anonymised.")
CONTRACTOR_ALREADY_ANONYMISED = gettext_noop("This contractor is already anonymised.")
CONTRACTOR_USERS_LEFT = gettext_noop("A contractor is anonymised only after all its users are.")
CLOSE_ROLES = (Role.BILLING, Role.ADMIN)
# The record of a request still open when the retention purge anonymised the closed account: its texts went with
# the account, nobody is left to answer, and nothing is left to hand over, correct or restrict. In the person's
# language, as every answer (dsr/open_requests.py; an erasure closes them the same way with its own sentence).
CLOSED_BY_ANONYMISATION = gettext_noop("Closed without further action: the account was closed and then anonymised "
                                       "at the end of its retention period, so nobody is left to answer and there is "
                                       "no data left to hand over, correct or restrict.")
ANONYMISATION_CLOSES = ClosedBy(sentence=CLOSED_BY_ANONYMISATION, outcome={"closed_by_anonymisation": True},
                                action="dsr.close_anonymised", purpose=RETENTION_PURPOSE)


def _close_allowed(*, actor: Any, reason: str) -> None:
    if not has_role(actor, *CLOSE_ROLES):
        raise ApplicationError(ACCOUNT_CLOSE_NOT_ALLOWED)
    if reason not in AccountCloseReason.values:
        raise ApplicationError(ACCOUNT_CLOSE_REASON_UNKNOWN, extra={"field": "reason"})


@transaction.atomic
def account_close(*, user: User, actor: Any, reason: str) -> User:
    """The contract ended: the account can no longer sign in (sessions, API tokens, password), its numbers'
    periods end now. Its user data stays until the retention purge anonymises it."""
    _close_allowed(actor=actor, reason=reason)
    return _account_close(user, actor=actor, reason=reason, stamp=now())


def _account_close(user: User, *, actor: Any, reason: str, stamp: datetime, sessions: Counter | None = None) -> User:
    """`sessions`: the sessions already ended per user id (`_sessions_end`), when several accounts close at once."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.closed_at is not None:
        raise ApplicationError(ACCOUNT_ALREADY_CLOSED)
    if user.pk == getattr(actor, "pk", None):
        raise ApplicationError(ACCOUNT_CLOSE_SELF)
    counts = _sign_in_end(user, stamp=stamp, sessions=sessions)
    counts.update(_number_periods_end(user, at=stamp, actor=actor))
    user.closed_at = stamp
    user.save(update_fields=["closed_at"])
    audit_record(actor=actor, action="account.close", purpose=CONTRACT_PURPOSE, target_type="user", target_id=user.pk,
                 extra={"reason": reason, **counts})
    return user


@transaction.atomic
def account_anonymise(*, user: User, actor: Any, kept: list[Kept] | None = None) -> dict:
    """Remove a closed account's user data (the retention purge calls this once the final invoice is
    settled and the closed_account period has passed). `kept`: what the registry's keepers say must stay
    (default: ask them); the numbers' periods stay while a hold or calls need them. The person's requests still
    open are closed then, as an erasure closes them (dsr/open_requests.py): their texts went, nobody is left; and
    their export files are deleted, as an erasure deletes them."""
    # Lock order as an erasure's: open requests without an export, the person's row, their exports, the others.
    others = open_requests_lock(user_id=user.pk, exports=False)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.closed_at is None:
        raise ApplicationError(ACCOUNT_NOT_CLOSED)
    if user.anonymised_at is not None:
        raise ApplicationError(ACCOUNT_ALREADY_ANONYMISED)
    kept = kept_for(user) if kept is None else kept
    stamp = now()
    # account_close already ended every sign-in (tokens, sessions, password): not scanned again here.
    counts = _personal_data_remove(user, keep_numbers=numbers_kept(kept), stamp=stamp)
    counts["exports_deleted"] = user_exports_delete(user_id=user.pk)  # the closed access requests' too
    others += open_requests_lock(user_id=user.pk, exports=True)
    open_requests_close(requests=others, closed_by=ANONYMISATION_CLOSES, language=user.language, stamp=stamp,
                        actor=actor)
    counts["open_requests_closed"] = len(others)
    audit_record(actor=actor, action="account.anonymise", purpose=RETENTION_PURPOSE, target_type="user",
                 target_id=user.pk, extra={**counts, "kept": sorted({k.category for k in kept})})
    return counts


def anonymised_open_requests_close(*, actor: Any, dry_run: bool = False) -> int:
    """Requests left open by an anonymisation made before account_anonymise closed them (their texts went with the
    account: migration 0037): closed as it closes them, dated at the anonymisation, its export files deleted. Not
    those of an account erased (its erasure request says so): an erasure closes them with its own sentence. The purge
    of closed accounts calls this every run (one query when none is left). How many were (or would be)
    closed."""
    left = (DataSubjectRequest.objects.filter(status__in=DataSubjectRequest.OPEN_STATUSES,
                                              user__anonymised_at__isnull=False)
            .exclude(user__dsr_requests__kind=DataSubjectRequest.Kind.ERASURE))
    if dry_run:
        return left.count()
    closed = 0
    for user_id in sorted(set(left.values_list("user_id", flat=True))):
        with transaction.atomic():  # one person at a time, in account_anonymise's lock order
            others = open_requests_lock(user_id=user_id, exports=False)
            user = User.objects.select_for_update().get(pk=user_id)
            user_exports_delete(user_id=user_id)
            others += open_requests_lock(user_id=user_id, exports=True)
            open_requests_close(requests=others, closed_by=ANONYMISATION_CLOSES, language=user.language,
                                stamp=user.anonymised_at, actor=actor)
            closed += len(others)
    return closed


@transaction.atomic
def contractor_close(*, contractor: Contractor, actor: Any, reason: str) -> dict:
    """The Contractor's contract ended: each of its Users' accounts still open is closed as `account_close`
    closes one, all in one transaction (one refusal, such as the actor's own account, closes none), and
    no User can be added to it any more. Its name, itemisation and invoice address stay for the final
    invoices and go when the purge has anonymised its last User (`contractor_anonymise`)."""
    _close_allowed(actor=actor, reason=reason)
    contractor = Contractor.objects.select_for_update().get(pk=contractor.pk)
    if contractor.closed_at is not None:
        raise ApplicationError(CONTRACTOR_ALREADY_CLOSED)
    users = list(contractor.users.filter(closed_at__isnull=True).order_by("pk"))
    stamp = now()
    sessions = _sessions_end({user.pk for user in users}, stamp=stamp)  # one scan of the sessions for all
    for user in users:
        _account_close(user, actor=actor, reason=reason, stamp=stamp, sessions=sessions)
    contractor.closed_at = stamp
    contractor.save(update_fields=["closed_at"])
    counts = {"reason": reason, "users_closed": len(users)}
    audit_record(actor=actor, action="contractor.close", purpose=CONTRACT_PURPOSE, target_type="contractor",
                 target_id=contractor.pk, extra=counts)
    return counts


@transaction.atomic
def contractor_anonymise(*, contractor: Contractor, actor: Any) -> dict:
    """A closed Contractor whose Users are all anonymised: its invoice address is deleted and its name (a
    sole trader's trade name is often their own) replaced. Its invoices keep the name and address they
    were made out to (AWR art. 52, 7 years); the row stays, as they refer to it."""
    contractor = Contractor.objects.select_for_update().get(pk=contractor.pk)
    if contractor.closed_at is None:
        raise ApplicationError(CONTRACTOR_NOT_CLOSED)
    if contractor.anonymised_at is not None:
        raise ApplicationError(CONTRACTOR_ALREADY_ANONYMISED)
    if contractor.users.filter(anonymised_at__isnull=True).exists():
        raise ApplicationError(CONTRACTOR_USERS_LEFT)
    addresses = BillingAddress.objects.filter(contractor=contractor).delete()[0]
    contractor.name = f"closed-contractor-{contractor.pk}"
    contractor.anonymised_at = now()
    contractor.save(update_fields=["name", "anonymised_at"])
    counts = {"billing_address_deleted": addresses}
    audit_record(actor=actor, action="contractor.anonymise", purpose=RETENTION_PURPOSE, target_type="contractor",
                 target_id=contractor.pk, extra=counts)
    return counts


def account_close_and_anonymise(*, user: User, keep_numbers: bool, stamp: datetime) -> dict:
    """Erasure closes and anonymises at once: the two halves of account_close + account_anonymise.
    The caller (dsr_erasure_perform) holds the row lock and writes the audit entry."""
    counts = _sign_in_end(user, stamp=stamp)
    if keep_numbers:  # a hold keeps the periods, but the person holds the numbers no longer (as account_close)
        counts.update(_number_periods_end(user, at=stamp, actor=None))
    counts.update(_personal_data_remove(user, keep_numbers=keep_numbers, stamp=stamp))
    user.closed_at = user.closed_at or stamp
    user.save(update_fields=["closed_at"])
    return counts


def numbers_kept(kept: list[Kept]) -> bool:
    """The assignment periods of numbers are what a hold on a number or on calls is about, and what shows whose
    line kept calls were made on: keep them while calls are kept, by a hold ("cdr_*" categories) or for an open
    invoice ("calls"). `category` may list several, comma-separated."""
    return any(any(c.strip() == "calls" or c.strip().startswith("cdr") for c in k.category.split(","))
               or k.reason.lower().startswith("legal hold") for k in kept)


def _sessions_end(user_ids: set[int], *, stamp: datetime) -> Counter:
    """Deletes the live sessions of these users; how many each had (each session row names its user)."""
    sessions = UserSession.objects.filter(user_id__in=user_ids)
    ended = Counter(sessions.filter(expire_date__gt=stamp).values_list("user_id", flat=True))
    sessions.delete()
    return ended


def _sign_in_end(user: User, *, stamp: datetime, sessions: Counter | None = None) -> dict:
    """No way in any more: API tokens and sessions deleted, password unusable, account inactive.
    Saves the user's password and is_active. `sessions`: ended already (`_sessions_end`)."""
    tokens = AuthToken.objects.filter(user=user).delete()[0]
    ended = (_sessions_end({user.pk}, stamp=stamp) if sessions is None else sessions)[user.pk]
    user.set_unusable_password()
    user.is_active = False
    user.save(update_fields=["password", "is_active"])
    return {"tokens": tokens, "sessions": ended}


def _personal_data_remove(user: User, *, keep_numbers: bool, stamp: datetime) -> dict:
    """The user data of the privacy policy (login name, e-mail, numbers) and what hangs on them: two-factor
    devices and failed sign-in records under the login name, representatives' names and proofs on the person's
    requests. The row stays (invoices refer to it).
    Saves the user's username, email, anonymised_at and restricted_at."""
    devices = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    attempts = login_attempts_forget(username=user.username)  # before the name goes
    numbers = 0 if keep_numbers else user.phone_numbers.all().delete()[0]
    # Name and address (the CIOT subscriber file's user data) go with the account: the file then no
    # longer names the person, even for the number periods a hold keeps.
    subscriber = user.subscriber_details.all().delete()[0]
    # The invoice address goes too: each invoice issued keeps its own copy (AWR art. 52, 7 years).
    BillingAddress.objects.filter(user=user).delete()
    # A representative's name and proof of authority on the person's requests (a third party's, kept for that
    # request only) go too; the requests stay as the record, with the kind and the check of their authority.
    representatives = dsr_representative_erase(user=user, stamp=stamp)
    # The free texts of every request of theirs go too (what they wrote, the extension's reason, the answer quoting
    # it, an objection's balancing record); kinds, dates, statuses and outcome codes stay as the record (dsr/texts.py).
    representatives |= request_texts_erase(user_id=user.pk, stamp=stamp)
    user.username = f"erased-{secrets.token_hex(8)}"
    user.email = None
    user.anonymised_at = stamp
    user.restricted_at = user.restricted_at or stamp
    user.save(update_fields=["username", "email", "email_index", "anonymised_at", "restricted_at"])
    return {"devices": devices, "login_attempts": attempts, "numbers_deleted": numbers,
            "subscriber_details_deleted": subscriber, **representatives}


def _number_periods_end(user: User, *, at: datetime, actor: Any) -> dict:
    """Numbers held at `at` are released then; an assignment that had not started yet is dropped."""
    ended = dropped = 0
    running = user.phone_numbers.select_for_update().filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))
    for phone in running.order_by("pk"):
        if phone.valid_from < at:
            phone_number_release(phone=phone, at=at, actor=actor)
            ended += 1
        else:
            phone.delete()
            dropped += 1
    return {"numbers_ended": ended, "numbers_dropped": dropped}
