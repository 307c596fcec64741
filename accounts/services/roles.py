"""Roles: giving them (a role of SECOND_ADMIN_ROLES that a person gives waits for a second admin, as a
RoleGrant), deciding those requests, and mailing the members of a staff role."""
from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import transaction
from django.utils.timezone import now
from django.utils.translation import gettext_noop

from voipxs.exceptions import ApplicationError
from voipxs.mail import mail_address, mail_language, person_language
from voipxs.privacy.audit import audit_record
from voipxs.privacy.crypto import pseudonym
from voipxs.privacy.purposes import ACCESS_SECURITY_PURPOSE, STAFF_ROLES, Role, has_role

from ..backends import user_facts_forget
from ..models import RoleGrant, User
from .sign_in import api_tokens_revoke_all

UNKNOWN_ROLE = gettext_noop("Unknown role.")

# Roles one admin cannot give alone: legal officers open secret disclosure requests and their packages,
# the DPO holds the registers, and an admin could give either (or make a second, puppet admin). When a
# person gives one of these, it becomes a RoleGrant that another admin approves. Without an actor (the
# operator's command line, seeding, migrations) roles are set directly.
SECOND_ADMIN_ROLES = frozenset({Role.ADMIN, Role.LEGAL_OFFICER, Role.DPO})
GRANT_NOT_PENDING = gettext_noop("This role request was already decided.")
GRANT_SAME_ADMIN = gettext_noop("A second admin must approve: not the one who asked, nor the person who gets the role.")
GRANT_NOT_ADMIN = gettext_noop("Only an admin may decide role requests.")


def staff_role_mail(*, role: str, compose: Callable[[], tuple[str, str]]) -> int:
    """E-mail every active member of a staff role who has an address, each in their language (User.language, else
    the site's default): one message per language, its (subject, body) from `compose()`, called inside
    `person_language`, so the gettext, ngettext and date_format in it render in that language. Returns how many
    were mailed. Callers write ids, kinds, counts and dates into the message, never personal data of the people
    it is about."""
    by_language: dict[str, list[str]] = {}
    for user in User.objects.filter(groups__name=role, is_active=True).distinct().order_by("pk"):
        if address := mail_address(user.email):  # only spaces is no address
            by_language.setdefault(mail_language(user.language), []).append(address)
    for language, recipients in sorted(by_language.items()):
        with person_language(language):
            subject, message = compose()
        send_mail(subject=subject, message=message, from_email=None, recipient_list=recipients)
    return sum(len(recipients) for recipients in by_language.values())


@transaction.atomic
def user_roles_set(*, user: User, roles: list[str] | tuple[str, ...], actor=None) -> User:
    """Give `user` exactly `roles`. A role of SECOND_ADMIN_ROLES that a person (actor) adds is not given
    but requested (a pending RoleGrant); removing any role takes effect at once."""
    wanted = set(roles)
    if not wanted <= set(Role.values):
        raise ApplicationError(UNKNOWN_ROLE)
    held = set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))
    requested = (wanted - held) & SECOND_ADMIN_ROLES if actor is not None else set()
    _roles_apply(user=user, roles=wanted - requested, actor=actor)
    for role in sorted(requested):
        _role_grant_request(user=user, role=role, actor=actor)
    return user


def _roles_apply(*, user: User, roles: set[str], actor) -> None:
    user.groups.set([Group.objects.get_or_create(name=role)[0] for role in roles])
    user_facts_forget(user)
    # The staff and superuser flags follow the roles held, so that the admin and the second-factor
    # rules agree with them (a requested role gives neither).
    is_staff, is_superuser = bool(roles & STAFF_ROLES), Role.ADMIN in roles
    became_staff = is_staff and not user.is_staff
    if (user.is_staff, user.is_superuser) != (is_staff, is_superuser):
        user.is_staff, user.is_superuser = is_staff, is_superuser
        user.save(update_fields=["is_staff", "is_superuser"])
    if became_staff:
        # Tokens issued before the account owed a second factor must not outlive that change.
        api_tokens_revoke_all(user=user, actor=actor, reason="became_staff")
    audit_record(actor=actor, action="user.roles_set", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                 target_id=user.pk, extra={"roles": sorted(roles)})


def _role_grant_request(*, user: User, role: str, actor) -> RoleGrant:
    grant, created = RoleGrant.objects.get_or_create(user=user, role=role, status=RoleGrant.Status.PENDING,
                                                     defaults={"requested_by": actor})
    if created:
        audit_record(actor=actor, action="role_grant.request", purpose=ACCESS_SECURITY_PURPOSE, target_type="user",
                     target_id=user.pk, extra={"role": role, "grant": grant.pk})
    return grant


def _role_grant_decide(*, grant: RoleGrant, actor, status: str) -> RoleGrant:
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.status != RoleGrant.Status.PENDING:
        raise ApplicationError(GRANT_NOT_PENDING)
    if not has_role(actor, Role.ADMIN):
        raise ApplicationError(GRANT_NOT_ADMIN)
    if status == RoleGrant.Status.APPROVED and actor.pk in (grant.requested_by_id, grant.user_id):
        raise ApplicationError(GRANT_SAME_ADMIN)
    grant.status, grant.decided_by, grant.decided_at = status, actor, now()
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, action=f"role_grant.{'approve' if status == RoleGrant.Status.APPROVED else 'refuse'}",
                 purpose=ACCESS_SECURITY_PURPOSE, target_type="user", target_id=grant.user_id,
                 extra={"role": grant.role, "grant": grant.pk, "requested_by": pseudonym("user", grant.requested_by_id)})
    return grant


@transaction.atomic
def role_grant_approve(*, grant: RoleGrant, actor) -> RoleGrant:
    """A second admin (not the requester, not the person concerned) gives the requested role."""
    grant = _role_grant_decide(grant=grant, actor=actor, status=RoleGrant.Status.APPROVED)
    user = User.objects.select_for_update().get(pk=grant.user_id)
    held = set(user.groups.values_list("name", flat=True))
    _roles_apply(user=user, roles=held | {grant.role}, actor=actor)
    return grant


@transaction.atomic
def role_grant_refuse(*, grant: RoleGrant, actor) -> RoleGrant:
    """Any admin, the requester included, may refuse (withdraw) a pending role request."""
    return _role_grant_decide(grant=grant, actor=actor, status=RoleGrant.Status.REFUSED)
