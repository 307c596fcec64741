"""Users and contractors: create, change, password, number masking, itemised bills and language. Roles are
roles.py; sign-in is sign_in.py."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import ACCESS_SECURITY_PURPOSE, CONTRACT_PURPOSE, STAFF_ROLES, Purpose, Role, roles_of

from ..models import Contractor, Itemisation, ItemisationChange, User
from ..selectors import ItemisationSetting, next_billing_period
from .roles import user_roles_set
from .sign_in import api_tokens_revoke_all

CONTRACTOR_CLOSED = gettext_noop("This contractor's contract has ended: no users can be added to it.")
CONTRACTOR_ANONYMISED = gettext_noop("This contractor was anonymised after its contract ended; its name cannot be "
                                     "set again.")
ITEMISATION_INVALID_MSGID = gettext_noop("Itemisation must be one of: %(choices)s.")
ITEMISATION_CHOICES = {"choices": ", ".join(Itemisation.values)}
ITEMISATION_INVALID = ITEMISATION_INVALID_MSGID % ITEMISATION_CHOICES
ITEMISATION_BY_CONTRACTOR = gettext_noop("Your contractor decides how your bills are itemised.")
LANGUAGE_INVALID_MSGID = gettext_noop("Language must be one of: %(choices)s.")
LANGUAGE_CHOICES = {"choices": ", ".join(code for code, _name in settings.LANGUAGES)}
LANGUAGE_INVALID = LANGUAGE_INVALID_MSGID % LANGUAGE_CHOICES


def itemisation_check(itemisation: str) -> None:
    """Refuse an itemisation that is none of Itemisation's values, at the field "itemisation"."""
    if itemisation not in Itemisation.values:
        raise ApplicationError.formatted(ITEMISATION_INVALID_MSGID, ITEMISATION_CHOICES, field="itemisation")


def _contractor_open(contractor: Contractor | None) -> None:
    if contractor is not None and Contractor.objects.filter(pk=contractor.pk, closed_at__isnull=False).exists():
        raise ApplicationError(CONTRACTOR_CLOSED, {"field": "contractor"})


@transaction.atomic
def contractor_create(*, name: str, actor=None, itemisation: str = Itemisation.NONE,
                      omit_free_numbers: bool = True) -> Contractor:
    """A new contractor. `itemisation` is the choice its contract starts with: it applies to every bill of its
    Users (there is no earlier period to keep); a later change waits for the next period
    (contractor_itemisation_set)."""
    itemisation_check(itemisation)
    contractor = Contractor(name=name, itemisation=itemisation, omit_free_numbers=bool(omit_free_numbers))
    contractor.full_clean()
    contractor.save()
    audit_record(actor=actor, action="contractor.create", purpose=CONTRACT_PURPOSE, target_type="contractor",
                 target_id=contractor.pk)
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
    audit_record(actor=actor, action="contractor.rename", purpose=CONTRACT_PURPOSE, target_type="contractor",
                 target_id=contractor.pk)
    return contractor


def _account_purpose(roles) -> str:
    """A customer's account is kept for the contract; a staff member's sign-in, for the security of processing."""
    return ACCESS_SECURITY_PURPOSE if set(roles) & STAFF_ROLES else CONTRACT_PURPOSE


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    email: str | None = None,
    roles: list[str] | tuple[str, ...] = (Role.CUSTOMER,),
    contractor: Contractor | None = None,
    actor=None,
    itemisation: str = Itemisation.NONE,
    omit_free_numbers: bool = True,
) -> User:
    """A new account. `itemisation`: an individual's choice of itemised bills at sign-up, which applies to all
    their bills (a later change waits for the next period: user_itemisation_set); a Contractor's User has the
    contractor's."""
    _contractor_open(contractor)
    itemisation_check(itemisation)
    user = User(username=User.normalize_username(username), email=(email or None), contractor=contractor,
                itemisation=itemisation, omit_free_numbers=bool(omit_free_numbers))
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=actor, action="user.create", purpose=_account_purpose(roles), target_type="user",
                 target_id=user.pk, extra={"roles": sorted(roles)})
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
    audit_record(actor=actor, action="user.update", purpose=_account_purpose(roles_of(user)), target_type="user",
                 target_id=user.pk, extra={"fields": sorted(changed)})
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str, actor=None) -> User:
    """Every password change and reset comes here. Web sessions end with the old password (Django's
    session hash); API tokens are revoked here, so a stolen token dies with the password it was issued
    under, as the person who changes a password after a theft expects."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor or user, action="user.password_set", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                 target_id=user.pk)
    api_tokens_revoke_all(user=user, actor=actor or user, reason="password_set")
    return user


@transaction.atomic
def user_number_masking_set(*, user: User, masked: bool, actor=None) -> User:
    """The user's own request (Bude art. 4.2(1)) that their numbers show masked on other people's
    itemised bills, or its withdrawal. Applied to bills read from now on (traffic/selectors/masking.py)."""
    if user.number_masked != bool(masked):
        user.number_masked = bool(masked)
        user.save(update_fields=["number_masked"])
        audit_record(actor=actor or user, action="user.number_masking", purpose=Purpose.SELF_SERVICE,
                     target_type="user", target_id=user.pk, extra={"masked": bool(masked)})
    return user


def _itemisation_schedule(*, party: dict, before: ItemisationSetting, after: ItemisationSetting,
                          at: datetime | None) -> str | None:
    """Record a change of itemised bills from `before` (the latest choice, in force now) to `after`, which applies
    from the next billing period (LEGAL.md row 9: a request made in period P is effective from P+1); bills of this
    period and earlier keep what applied to them. A second change in the same period amends the first (its
    "before" stays: what this period's bills show), and a change back to it leaves nothing pending. The party's
    row is locked by the caller. `at`: when it was asked (default now). Returns the first day of the period the
    change applies from (ISO), or None."""
    valid_from = next_billing_period(at)
    pending = ItemisationChange.objects.select_for_update().filter(**party, valid_from=valid_from).first()
    if pending is None:
        ItemisationChange.objects.create(**party, valid_from=valid_from, itemisation_before=before.itemisation,
                                         omit_free_before=before.omit_free_numbers)
    elif (pending.itemisation_before, pending.omit_free_before) == (after.itemisation, after.omit_free_numbers):
        pending.delete()
        return None
    return valid_from.isoformat()


def _itemisation_after(before: ItemisationSetting, itemisation: str,
                       omit_free_numbers: bool | None) -> ItemisationSetting:
    itemisation_check(itemisation)
    return ItemisationSetting(itemisation, before.omit_free_numbers if omit_free_numbers is None
                              else bool(omit_free_numbers))


@transaction.atomic
def contractor_itemisation_set(*, contractor: Contractor, itemisation: str, actor=None,
                               omit_free_numbers: bool | None = None, at: datetime | None = None) -> Contractor:
    """How the contractor's Users' itemised bills show the other party's number: full, masked or none
    (no call list, totals only), and whether they leave calls to free and helpline numbers off
    (`omit_free_numbers`, None: unchanged). Applies from the next billing period (_itemisation_schedule)."""
    row = (Contractor.objects.select_for_update().filter(pk=contractor.pk)
           .values("itemisation", "omit_free_numbers").get())
    before = ItemisationSetting(row["itemisation"], row["omit_free_numbers"])
    after = _itemisation_after(before, itemisation, omit_free_numbers)
    contractor.itemisation, contractor.omit_free_numbers = after.itemisation, after.omit_free_numbers
    if before != after:
        applies_from = _itemisation_schedule(party={"contractor_id": contractor.pk}, before=before, after=after,
                                             at=at)
        Contractor.objects.filter(pk=contractor.pk).update(itemisation=after.itemisation,
                                                           omit_free_numbers=after.omit_free_numbers)
        audit_record(actor=actor, action="contractor.itemisation", purpose=Purpose.BILLING, target_type="contractor",
                     target_id=contractor.pk, extra={"from": before.itemisation, "to": after.itemisation,
                            "omit_free_numbers": after.omit_free_numbers, "applies_from": applies_from})
    return contractor


@transaction.atomic
def user_itemisation_set(*, user: User, itemisation: str, actor=None, on_behalf: dict | None = None,
                         omit_free_numbers: bool | None = None, at: datetime | None = None) -> User:
    """An individual subscriber's choice of itemised bills (ePrivacy art. 7, Tw 11.4): full, masked or none
    (totals only, the default), and whether calls to free and helpline numbers are left off (`omit_free_numbers`,
    None: unchanged). A Contractor's User gets the Contractor's setting and cannot choose. Applies from the next
    billing period (_itemisation_schedule). `on_behalf`: support made the change at the customer's request
    (accounts.support.services.support_itemisation_set); its codes (how they asked, a ticket reference) go
    into the same audit entry, under CUSTOMER_SUPPORT, with the staff member as the actor."""
    row = (User.objects.select_for_update().filter(pk=user.pk)
           .values("contractor_id", "itemisation", "omit_free_numbers").get())
    before = ItemisationSetting(row["itemisation"], row["omit_free_numbers"])
    after = _itemisation_after(before, itemisation, omit_free_numbers)
    if row["contractor_id"] is not None:
        raise ApplicationError(ITEMISATION_BY_CONTRACTOR, {"field": "itemisation"})
    user.itemisation, user.omit_free_numbers = after.itemisation, after.omit_free_numbers
    if before != after:
        applies_from = _itemisation_schedule(party={"user_id": user.pk}, before=before, after=after, at=at)
        user.save(update_fields=["itemisation", "omit_free_numbers"])
        extra = {"from": before.itemisation, "to": after.itemisation, "omit_free_numbers": after.omit_free_numbers,
                 "applies_from": applies_from}
        if on_behalf is not None:
            extra.update(on_behalf=True, **on_behalf)
        audit_record(actor=actor or user, action="user.itemisation", target_type="user", target_id=user.pk,
                     purpose=Purpose.CUSTOMER_SUPPORT if on_behalf is not None else Purpose.SELF_SERVICE, extra=extra)
    return user


@transaction.atomic
def user_language_set(*, user: User, language: str, actor=None) -> User:
    """The language the person chose in the portal (the footer's switch): the e-mails to them are written in it
    (voipxs.mail.person_language). "" forgets the choice, back to the site's default."""
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ApplicationError.formatted(LANGUAGE_INVALID_MSGID, LANGUAGE_CHOICES, field="language")
    before = User.objects.select_for_update().filter(pk=user.pk).values_list("language", flat=True).get()
    user.language = language
    if before != language:
        user.save(update_fields=["language"])
        audit_record(actor=actor or user, action="user.language", purpose=Purpose.SELF_SERVICE, target_type="user",
                     target_id=user.pk, extra={"from": before, "to": language})
    return user
