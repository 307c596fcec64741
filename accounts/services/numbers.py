"""Phone numbers held for a period [valid_from, valid_to): assign, release, relabel. The periods of one
number never overlap, found through the blind index under a row lock (and, on PostgreSQL, an exclusion
constraint)."""
from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import CONTRACT_PURPOSE

from ..models import PhoneNumber, User

NUMBER_ALREADY_HELD = gettext_noop("This number is held by another assignment in that period.")
NUMBER_INVALID = gettext_noop("This is not a valid phone number.")


def _overlapping(index: str, start: datetime, end: datetime | None):
    qs = PhoneNumber.objects.select_for_update().filter(number_index=index)
    if end is not None:
        qs = qs.filter(valid_from__lt=end)
    return qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))


@transaction.atomic
def phone_number_assign(
    *,
    user: User,
    number: str,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    label: str = "",
    default_region: str = "NL",
    actor=None,
) -> PhoneNumber:
    """Give `user` a number for [valid_from, valid_to). Refuses a period that overlaps another holder's."""
    try:
        e164 = normalize_e164(number, default_region)
    except InvalidNumber:
        raise ApplicationError(NUMBER_INVALID) from None
    valid_from = valid_from or now()
    phone = PhoneNumber(user=user, number=e164, label=label, valid_from=valid_from, valid_to=valid_to)
    index = PhoneNumber._meta.get_field("number_index").index_of(e164)
    if _overlapping(index, valid_from, valid_to).exists():
        raise ApplicationError(NUMBER_ALREADY_HELD)
    try:
        phone.full_clean(exclude=["number_index"])
    except ValidationError as exc:
        raise ApplicationError("; ".join(exc.messages)) from None
    phone.save()
    audit_record(actor=actor, action="phone_number.assign", purpose=CONTRACT_PURPOSE, target_type="user",
                 target_id=user.pk, extra={"phone_number": phone.pk})
    return phone


@transaction.atomic
def phone_number_release(*, phone: PhoneNumber, at: datetime | None = None, actor=None) -> PhoneNumber:
    phone = PhoneNumber.objects.select_for_update().get(pk=phone.pk)
    at = at or now()
    if phone.valid_to is not None and phone.valid_to <= at:
        raise ApplicationError(gettext_noop("This number was already released."))
    if at <= phone.valid_from:
        raise ApplicationError(gettext_noop("A number cannot be released before it was assigned."))
    phone.valid_to = at
    phone.save(update_fields=["valid_to"])
    audit_record(actor=actor, action="phone_number.release", purpose=CONTRACT_PURPOSE, target_type="user",
                 target_id=phone.user_id, extra={"phone_number": phone.pk})
    return phone


@transaction.atomic
def phone_number_relabel(*, phone: PhoneNumber, label: str, actor=None) -> PhoneNumber:
    phone.label = label
    phone.save(update_fields=["label"])
    audit_record(actor=actor, action="phone_number.relabel", purpose=CONTRACT_PURPOSE, target_type="user",
                 target_id=phone.user_id, extra={"phone_number": phone.pk})
    return phone


@transaction.atomic
def phone_number_port_out(*, phone: PhoneNumber, at: datetime | None = None, actor=None) -> PhoneNumber:
    """The number left VoIPXS for another provider (number portability): its period ends at `at`, so the
    next CIOT sync shows the end date and no longer names this user for the number afterwards."""
    phone = phone_number_release(phone=phone, at=at, actor=actor)
    audit_record(actor=actor, action="phone_number.port_out", purpose=CONTRACT_PURPOSE, target_type="user",
                 target_id=phone.user_id, extra={"phone_number": phone.pk})
    return phone


@transaction.atomic
def phone_number_port_in(*, user: User, number: str, at: datetime | None = None, label: str = "",
                         actor=None) -> PhoneNumber:
    """A number ported in from another provider (or moved from another VoIPXS user, whose period must
    have ended): a new period for `user` from `at`."""
    phone = phone_number_assign(user=user, number=number, valid_from=at, label=label, actor=actor)
    audit_record(actor=actor, action="phone_number.port_in", purpose=CONTRACT_PURPOSE, target_type="user",
                 target_id=user.pk, extra={"phone_number": phone.pk})
    return phone
