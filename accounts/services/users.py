"""Users and contractors: create, change, password, number masking and itemised bills. Roles are roles.py;
sign-in is sign_in.py."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, Role

from ..models import Contractor, Itemisation, User
from .roles import user_roles_set
from .sign_in import api_tokens_revoke_all

CONTRACTOR_CLOSED = "This contractor's contract has ended: no users can be added to it."
CONTRACTOR_ANONYMISED = "This contractor was anonymised after its contract ended; its name cannot be set again."
ITEMISATION_INVALID = "Itemisation must be one of: " + ", ".join(Itemisation.values) + "."
ITEMISATION_BY_CONTRACTOR = gettext_noop("Your contractor decides how your bills are itemised.")


def _contractor_open(contractor: Contractor | None) -> None:
    if contractor is not None and Contractor.objects.filter(pk=contractor.pk, closed_at__isnull=False).exists():
        raise ApplicationError(CONTRACTOR_CLOSED, {"field": "contractor"})


@transaction.atomic
def contractor_create(*, name: str, actor=None) -> Contractor:
    contractor = Contractor(name=name)
    contractor.full_clean()
    contractor.save()
    audit_record(actor=actor, action="contractor.create", target_type="contractor", target_id=contractor.pk)
    return contractor


@transaction.atomic
def contractor_rename(*, contractor: Contractor, name: str, actor=None) -> Contractor:
    if Contractor.objects.filter(pk=contractor.pk, anonymised_at__isnull=False).exists():
        raise ApplicationError(CONTRACTOR_ANONYMISED, {"field": "name"})  # its name went for good
    contractor.name = name
    try:
        contractor.full_clean()
    except ValidationError as exc:
        raise ApplicationError("; ".join(exc.messages)) from None
    contractor.save(update_fields=["name"])
    audit_record(actor=actor, action="contractor.rename", target_type="contractor", target_id=contractor.pk)
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
    _contractor_open(contractor)
    user = User(username=User.normalize_username(username), email=(email or None), contractor=contractor)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=actor, action="user.create", target_type="user", target_id=user.pk, extra={"roles": sorted(roles)})
    user_roles_set(user=user, roles=roles, actor=actor)
    return user


@transaction.atomic
def user_update_admin(*, user: User, fields: dict, actor=None) -> User:
    """The admin's change form: login name, e-mail, contractor, active. Roles go through user_roles_set."""
    allowed = {"username", "email", "contractor", "is_active"}  # the staff flags follow the roles
    changed = [name for name in fields if name in allowed]
    if "contractor" in changed and getattr(fields["contractor"], "pk", None) != user.contractor_id:
        _contractor_open(fields["contractor"])
    for name in changed:
        setattr(user, name, fields[name] if name != "email" else (fields[name] or None))
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise ApplicationError("; ".join(exc.messages)) from None
    update = list(changed)
    if "email" in update:
        update.append("email_index")
    if update:
        user.save(update_fields=update)
    audit_record(actor=actor, action="user.update", target_type="user", target_id=user.pk,
                 extra={"fields": sorted(changed)})
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str, actor=None) -> User:
    """Every password change and reset comes here. Web sessions end with the old password (Django's
    session hash); API tokens are revoked here, so a stolen token dies with the password it was issued
    under, as the person who changes a password after a theft expects."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor or user, action="user.password_set", target_type="user", target_id=user.pk)
    api_tokens_revoke_all(user=user, actor=actor or user, reason="password_set")
    return user


@transaction.atomic
def user_number_masking_set(*, user: User, masked: bool, actor=None) -> User:
    """The user's own request (Bude art. 4.2(1)) that their numbers show masked on other people's
    itemised bills, or its withdrawal. Applied to bills read from now on (traffic/selectors/masking.py)."""
    if user.number_masked != bool(masked):
        user.number_masked = bool(masked)
        user.save(update_fields=["number_masked"])
        audit_record(actor=actor or user, action="user.number_masking", target_type="user", target_id=user.pk,
                     extra={"masked": bool(masked)})
    return user


@transaction.atomic
def contractor_itemisation_set(*, contractor: Contractor, itemisation: str, actor=None) -> Contractor:
    """How the contractor's Users' itemised bills show the other party's number: full, masked or none
    (no call list, totals only). Applied to bills read from now on."""
    if itemisation not in Itemisation.values:
        raise ApplicationError(ITEMISATION_INVALID, {"field": "itemisation"})
    before = Contractor.objects.filter(pk=contractor.pk).values_list("itemisation", flat=True).first()
    contractor.itemisation = itemisation
    if before != itemisation:
        Contractor.objects.filter(pk=contractor.pk).update(itemisation=itemisation)
        audit_record(actor=actor, action="contractor.itemisation", target_type="contractor", target_id=contractor.pk,
                     extra={"from": before, "to": itemisation})
    return contractor


@transaction.atomic
def user_itemisation_set(*, user: User, itemisation: str, actor=None, on_behalf: dict | None = None) -> User:
    """An individual subscriber's choice of itemised bills (ePrivacy art. 7, Tw 11.4): full, masked or none
    (totals only, the default). A Contractor's User gets the Contractor's setting and cannot choose.
    Applied to bills read from now on. `on_behalf`: support made the change at the customer's request
    (accounts.support.services.support_itemisation_set); its codes (how they asked, a ticket reference) go
    into the same audit entry, under CUSTOMER_SUPPORT, with the staff member as the actor."""
    if itemisation not in Itemisation.values:
        raise ApplicationError(ITEMISATION_INVALID, {"field": "itemisation"})
    row = User.objects.select_for_update().filter(pk=user.pk).values("contractor_id", "itemisation").get()
    if row["contractor_id"] is not None:
        raise ApplicationError(ITEMISATION_BY_CONTRACTOR, {"field": "itemisation"})
    user.itemisation = itemisation
    if row["itemisation"] != itemisation:
        user.save(update_fields=["itemisation"])
        extra = {"from": row["itemisation"], "to": itemisation}
        if on_behalf is not None:
            extra.update(on_behalf=True, **on_behalf)
        audit_record(actor=actor or user, action="user.itemisation", target_type="user", target_id=user.pk,
                     purpose=Purpose.CUSTOMER_SUPPORT if on_behalf is not None else "", extra=extra)
    return user
