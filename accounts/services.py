"""Every write to accounts goes through here."""
from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now

from voipxs.audit import audit_record
from voipxs.exceptions import ApplicationError
from voipxs.phone import InvalidNumber, normalize_e164
from voipxs.purposes import STAFF_ROLES, Role

from .models import Contractor, PhoneNumber, User

NUMBER_ALREADY_HELD = "This number is held by another assignment in that period."
NUMBER_INVALID = "This is not a valid phone number."
UNKNOWN_ROLE = "Unknown role."


@transaction.atomic
def contractor_create(*, name: str, actor=None) -> Contractor:
    contractor = Contractor(name=name)
    contractor.full_clean()
    contractor.save()
    audit_record(actor=actor, action="contractor.create", target_type="contractor", target_id=contractor.pk)
    return contractor


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    email: str | None = None,
    roles: list[str] | tuple[str, ...] = (Role.CUSTOMER,),
    contractor: Contractor | None = None,
    actor=None,
) -> User:
    user = User(username=User.normalize_username(username), email=(email or None), contractor=contractor)
    user.is_staff = bool(set(roles) & STAFF_ROLES)
    user.is_superuser = Role.ADMIN in roles
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    user_roles_set(user=user, roles=roles, actor=actor)
    audit_record(actor=actor, action="user.create", target_type="user", target_id=user.pk, extra={"roles": sorted(roles)})
    return user


@transaction.atomic
def user_roles_set(*, user: User, roles: list[str] | tuple[str, ...], actor=None) -> User:
    valid = set(Role.values)
    if not set(roles) <= valid:
        raise ApplicationError(UNKNOWN_ROLE)
    groups = [Group.objects.get_or_create(name=role)[0] for role in roles]
    user.groups.set(groups)
    user.__dict__.pop("_voipxs_roles", None)
    if hasattr(user, "_voipxs_roles"):
        del user._voipxs_roles
    audit_record(actor=actor, action="user.roles_set", target_type="user", target_id=user.pk, extra={"roles": sorted(roles)})
    return user


@transaction.atomic
def user_update_email(*, user: User, email: str | None, actor=None) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    user.email = email or None
    user.full_clean(exclude=["password"])
    user.save(update_fields=["email", "email_index"])
    audit_record(actor=actor or user, action="user.email_change", target_type="user", target_id=user.pk)
    return user


def _overlapping(index: str, start: datetime, end: datetime | None, exclude_pk: int | None = None):
    qs = PhoneNumber.objects.select_for_update().filter(number_index=index)
    if end is not None:
        qs = qs.filter(valid_from__lt=end)
    qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs


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
    audit_record(actor=actor, action="phone_number.assign", target_type="user", target_id=user.pk,
                 extra={"phone_number": phone.pk})
    return phone


@transaction.atomic
def phone_number_release(*, phone: PhoneNumber, at: datetime | None = None, actor=None) -> PhoneNumber:
    phone = PhoneNumber.objects.select_for_update().get(pk=phone.pk)
    at = at or now()
    if phone.valid_to is not None and phone.valid_to <= at:
        raise ApplicationError("This number was already released.")
    if at <= phone.valid_from:
        raise ApplicationError("A number cannot be released before it was assigned.")
    phone.valid_to = at
    phone.save(update_fields=["valid_to"])
    audit_record(actor=actor, action="phone_number.release", target_type="user", target_id=phone.user_id,
                 extra={"phone_number": phone.pk})
    return phone
