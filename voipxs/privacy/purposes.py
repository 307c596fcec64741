"""The purposes of processing, from the privacy policy (article 3), and who may use which.

This table is the single source of the processing register (GDPR art. 30): the register is
generated from it, so the register cannot drift from what the code enforces. Every selector that
returns personal or traffic data calls `require_purpose(...)` first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    BILLING = "billing", _("Invoicing the amounts due")
    INTERCONNECTION = "interconnection", _("Payments for interconnection and special access")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligations, incl. criminal investigations")
    DISPUTE = "dispute", _("Disputes between VoIPXS and Contractor or User")
    CONTRACTOR_INFORMATION = "contractor_information", _("Informing the Contractor about its Users' traffic")
    SELF_SERVICE = "self_service", _("A user seeing and managing their own data")
    SECURITY = "security", _("Fraud and abuse prevention, security of the service")
    CUSTOMER_SUPPORT = "customer_support", _("Helping a customer with their account (support)")
    CIOT = "ciot", _("Keeping user data available to the CIOT (Telecommunications Act art. 13.4)")
    CALL_SETUP = "call_setup", _("Setting up a call the user asked for (click-to-call)")


class Role(models.TextChoices):
    """Roles are Django groups of these names (accounts creates them in a migration)."""

    CUSTOMER = "customer", _("Customer")
    CONTRACTOR_ADMIN = "contractor_admin", _("Contractor admin")
    BILLING = "billing", _("Billing staff")
    LEGAL_OFFICER = "legal_officer", _("Legal officer")
    DPO = "dpo", _("Data protection officer")
    SUPPORT = "support", _("Support")
    ADMIN = "admin", _("Administrator")
    NOC = "noc", _("Network operations")
    FRAUD = "fraud", _("Fraud analyst")


STAFF_ROLES = frozenset({Role.BILLING, Role.LEGAL_OFFICER, Role.DPO, Role.SUPPORT, Role.ADMIN, Role.NOC, Role.FRAUD})

# The purposes that the privacy duties done by services, not selectors, are recorded under in the audit
# log (LEGAL.md section 5 row 21). Erasure and the retention purge (with its crypto-shredding and the
# audit log's own trim) delete or anonymise because the law says so: GDPR art. 17(1) ("the controller
# shall have the obligation to erase"), art. 5(1)(e) (storage limitation), Tw art. 11.5(1) (traffic
# data erased or anonymised once no longer needed). That is processing necessary for compliance with a
# legal obligation (GDPR art. 6(1)(c)), recorded the way the deadline and restriction notices of
# art. 12(3) and 18(3) already are. Key rotation re-encrypts under a new key: the security of
# processing (GDPR art. 32). Existing purposes, so no new purpose enters the register or the DPIA.
ERASURE_PURPOSE = Purpose.LEGAL_OBLIGATION
RETENTION_PURPOSE = Purpose.LEGAL_OBLIGATION
KEY_ROTATION_PURPOSE = Purpose.SECURITY
# The workflow events services record carry the purpose they serve too (row 21; tests/audit_guard.py holds every
# entry of application code to one). Again existing purposes, named for what the event is:
# - a data-subject request taken in, started, extended, answered or refused, a restriction and its notices, their
#   deadline reminders: the controller must act on the request (GDPR art. 12(3), 15-22; art. 6(1)(c));
# - the breach register, its notifications and their clocks: GDPR art. 33 and 34, Tw art. 11.3a;
# - a version of the privacy policy written, published, e-mailed and seen: the duty to inform (GDPR art. 12-14);
# - an account, a Contractor or a number given, changed or ended: the contract (GDPR art. 6(1)(b)), which the
#   register records under BILLING (its user data are held to rate and invoice each number's calls to its holder);
# - who may sign in and act (second factors, passwords, roles, API tokens) and the log's own check: GDPR art. 32.
DSR_PURPOSE = Purpose.LEGAL_OBLIGATION
BREACH_PURPOSE = Purpose.LEGAL_OBLIGATION
TRANSPARENCY_PURPOSE = Purpose.LEGAL_OBLIGATION
CONTRACT_PURPOSE = Purpose.BILLING
ACCESS_SECURITY_PURPOSE = Purpose.SECURITY


@dataclass(frozen=True)
class PurposeInfo:
    """What the processing register says about one purpose. Every field is required."""

    description: str
    legal_basis: str
    data_categories: tuple[str, ...]
    recipients: tuple[str, ...]
    retention: str
    policy_reference: str


PURPOSES: dict[Purpose, PurposeInfo] = {
    Purpose.BILLING: PurposeInfo(
        description="Rating calls and issuing invoices for the amounts due by the Contractor.",
        legal_basis="GDPR art. 6(1)(b) contract; Tw art. 11.5(2) traffic data for billing",
        data_categories=("user data", "name and address on the invoice (the Contractor's, or the User's own)",
                         "traffic data", "invoices"),
        recipients=("billing staff", "the Contractor (own invoices)"),
        retention="CDRs until the invoice is paid, undisputed and its dispute window has passed (a decided dispute: "
                  "until the time to take the decision further has passed); invoices 7 years (AWR art. 52); "
                  "the invoice address until the account is anonymised (each invoice keeps its own copy)",
        policy_reference="Privacy policy art. 3, first bullet",
    ),
    Purpose.INTERCONNECTION: PurposeInfo(
        description="Settling payments with network operators for interconnection and special access.",
        legal_basis="GDPR art. 6(1)(b)/(f); Tw art. 11.5(2)",
        data_categories=("traffic data (aggregated per trunk and month)",),
        recipients=("billing staff", "interconnecting network operators (aggregates)"),
        retention="as billing",
        policy_reference="Privacy policy art. 3, second bullet",
    ),
    Purpose.LEGAL_OBLIGATION: PurposeInfo(
        description="Legal obligations, including the prevention, detection and prosecution of criminal offences.",
        legal_basis="GDPR art. 6(1)(c); Sv art. 126n, 126na, 126ni; Tw art. 13.4(3) and the Bvgt (CIOT)",
        data_categories=("user data", "traffic data"),
        recipients=("law-enforcement agencies", "public prosecutor", "courts"),
        retention="disclosure packages 90 days after delivery; the request record as accountability",
        policy_reference="Privacy policy art. 3, third bullet",
    ),
    Purpose.DISPUTE: PurposeInfo(
        description="Disputes between VoIPXS and the Contractor and/or User.",
        legal_basis="GDPR art. 6(1)(f) legitimate interest; Tw art. 11.5(2)",
        data_categories=("user data", "traffic data", "invoices"),
        recipients=("judicial authorities", "dispute commissions", "mediators"),
        retention="until the dispute is settled",
        policy_reference="Privacy policy art. 3, fourth bullet",
    ),
    Purpose.CONTRACTOR_INFORMATION: PurposeInfo(
        description="Informing the Contractor about the traffic of its Users (numbers masked).",
        legal_basis="GDPR art. 6(1)(b) contract; Tw art. 11.5(2)",
        data_categories=("traffic data (masked)",),
        recipients=("the Contractor's admins",),
        retention="as billing",
        policy_reference="Privacy policy art. 3, fifth bullet",
    ),
    Purpose.SELF_SERVICE: PurposeInfo(
        description="A user seeing, exporting and managing their own data (GDPR art. 15-20).",
        legal_basis="GDPR art. 6(1)(b) contract; GDPR art. 15, 20",
        data_categories=("user data", "traffic data", "invoices"),
        recipients=("the user themself",),
        retention="as the underlying data",
        policy_reference="Privacy policy art. 3 and 4",
    ),
    Purpose.SECURITY: PurposeInfo(
        description="Preventing fraud and abuse and securing the service.",
        legal_basis="GDPR art. 6(1)(f); Tw art. 11.5(1)",
        data_categories=("technical identifiers", "traffic data"),
        recipients=("support and security staff",),
        retention="technical identifiers 30 days; unbilled calls 3 months",
        policy_reference="Privacy policy art. 4",
    ),
    Purpose.CUSTOMER_SUPPORT: PurposeInfo(
        description=("Support staff, asked by a customer, find the account by number or e-mail address (blind "
                     "index), see its account and number details and its click-to-call set-ups of the last 30 days "
                     "(the number called masked; never its call records), lift a sign-in lockout, reset a "
                     "second factor with a recorded reason, open a rights request on the customer's behalf, and "
                     "change how the customer's bills are itemised at their request (recording how they asked; "
                     "the customer is told by e-mail)."),
        legal_basis="GDPR art. 6(1)(b) contract (the customer's own request for help); GDPR art. 12(2) (helping "
                    "the exercise of rights)",
        data_categories=("user data (login name, e-mail address, numbers, account and sign-in status)",
                         "click-to-call set-ups (time, own number, the number called masked, outcome)"),
        recipients=("support staff",),
        retention="nothing is copied; each access and action stays in the audit log (5 years, pseudonymous)",
        policy_reference="Privacy policy art. 1 (execution of the Services) and art. 4 (access only by those authorised)",
    ),
    Purpose.CIOT: PurposeInfo(
        description="Keeping the subscriber file (name, address, number, service, validity dates) available to "
                    "the CIOT information system, which authorised investigating bodies query; VoIPXS does not see "
                    "their queries.",
        legal_basis="GDPR art. 6(1)(c); Tw art. 13.4(3); Besluit verstrekking gegevens telecommunicatie (Bvgt)",
        data_categories=("user data (name, address, postcode, town)", "numbers with their validity dates",
                         "service type"),
        recipients=("CIOT (Ministry of Justice and Security), for the bodies authorised under Sv 126n ff. and Wiv",),
        retention="as the user data: until the closed account is anonymised; each sync file is replaced by the next",
        policy_reference="Privacy policy art. 3, third bullet (legal obligations); this page, purposes",
    ),
    Purpose.CALL_SETUP: PurposeInfo(
        description="Setting up a call the user chose (click-to-call): their own phone rings first, then the "
                    "chosen number. Only that number is received; nothing of the page it was on.",
        legal_basis="GDPR art. 6(1)(b) contract; Tw art. 11.5(2) traffic data for the transmission",
        data_categories=("user data (own number)", "the chosen number", "time of the set-up"),
        recipients=("the user themself", "the switch that sets up the call"),
        retention="set-up records 30 days; the call itself as a CDR (as billing)",
        policy_reference="Privacy policy, opening promise and art. 3",
    ),
}

ROLE_PURPOSES: dict[str, frozenset[Purpose]] = {
    Role.CUSTOMER: frozenset({Purpose.SELF_SERVICE, Purpose.CALL_SETUP}),
    Role.CONTRACTOR_ADMIN: frozenset({Purpose.SELF_SERVICE, Purpose.CONTRACTOR_INFORMATION, Purpose.CALL_SETUP}),
    # Staff are users too: SELF_SERVICE lets them see their own profile, never anyone else's.
    Role.BILLING: frozenset({Purpose.SELF_SERVICE, Purpose.BILLING, Purpose.INTERCONNECTION, Purpose.DISPUTE}),
    Role.LEGAL_OFFICER: frozenset({Purpose.SELF_SERVICE, Purpose.LEGAL_OBLIGATION, Purpose.DISPUTE}),
    Role.DPO: frozenset({Purpose.SELF_SERVICE, Purpose.LEGAL_OBLIGATION}),
    Role.SUPPORT: frozenset({Purpose.SELF_SERVICE, Purpose.SECURITY, Purpose.CUSTOMER_SUPPORT}),
    Role.ADMIN: frozenset({Purpose.SELF_SERVICE, Purpose.SECURITY}),
    # Least privilege (GDPR 5(1)(c), 32): the switches and the fraud controls are tasks of their own, not billing's.
    # Network operations keep the CDR sources and imports running; the fraud analyst keeps the blocked click-to-call
    # prefixes. Both serve the security of the service (SECURITY), an existing purpose of the register and the DPIA.
    Role.NOC: frozenset({Purpose.SELF_SERVICE, Purpose.SECURITY}),
    Role.FRAUD: frozenset({Purpose.SELF_SERVICE, Purpose.SECURITY}),
}


@dataclass(frozen=True)
class SystemActor:
    """A scheduled job or command acting without a person, with the purposes it was built for."""

    name: str
    purposes: frozenset[Purpose] = field(default_factory=frozenset)

    @property
    def pk(self) -> None:
        return None


def roles_of(actor: Any) -> frozenset[str]:
    if actor is None or isinstance(actor, SystemActor) or not getattr(actor, "is_authenticated", False):
        return frozenset()
    cached = getattr(actor, "_voipxs_roles", None)
    if cached is None:
        cached = frozenset(actor.groups.values_list("name", flat=True))
        actor._voipxs_roles = cached
    return cached


def roles_remember(actor: Any, roles: frozenset[str]) -> None:
    """Remember roles read together with something else (accounts.middleware reads them with the
    two-factor devices in one query), so that `roles_of` asks no more during this request."""
    actor._voipxs_roles = frozenset(roles)


def roles_forget(actor: Any) -> None:
    """Drop the roles `roles_of` cached on this instance, after they changed."""
    actor.__dict__.pop("_voipxs_roles", None)


def purposes_of(actor: Any) -> frozenset[Purpose]:
    if isinstance(actor, SystemActor):
        return actor.purposes
    granted: set[Purpose] = set()
    for role in roles_of(actor):
        granted |= ROLE_PURPOSES.get(role, frozenset())
    return frozenset(granted)


def has_role(actor: Any, *roles: str) -> bool:
    return bool(roles_of(actor) & set(roles))


PURPOSE_REFUSED = "This purpose is not granted to your role."


def require_purpose(
    *,
    actor: Any,
    purpose: Purpose | str,
    action: str,
    target_type: str = "",
    target_id: object = "",
    extra: dict | None = None,
) -> Purpose:
    """Check that `actor` may process data for `purpose` and record the access either way.

    Raises PermissionDenied (after auditing the refusal) when the purpose is not granted.
    """
    from .audit import audit_access  # audit imports models; keep this module importable early

    try:
        purpose = Purpose(purpose)
    except ValueError:
        audit_access(actor=actor, purpose=str(purpose)[:32], action=action, target_type=target_type,
                     target_id=target_id, outcome="refused", extra={"reason": "unknown purpose"})
        raise PermissionDenied(PURPOSE_REFUSED) from None
    if purpose not in purposes_of(actor):
        audit_access(actor=actor, purpose=purpose, action=action, target_type=target_type,
                     target_id=target_id, outcome="refused", extra=extra)
        raise PermissionDenied(PURPOSE_REFUSED)
    audit_access(actor=actor, purpose=purpose, action=action, target_type=target_type,
                 target_id=target_id, outcome="ok", extra=extra)
    return purpose


# GDPR art. 21(1): the person may object to processing based on legitimate interests (art. 6(1)(f)). Read from the
# register's own legal basis, so that a purpose whose basis changes is objectable, or not, with it: a basis that
# cites 6(1)(f), alone or beside another ground ("6(1)(b)/(f)": the legitimate-interest part is objectable).
_LEGITIMATE_INTEREST_BASES = ("6(1)(f)", "6(1)(b)/(f)")


def objectable(purpose: Purpose | str) -> bool:
    """Whether the person may object (GDPR art. 21(1)) to processing for `purpose`: its basis cites art. 6(1)(f)."""
    info = PURPOSES.get(purpose)  # type: ignore[call-overload]
    return info is not None and any(basis in info.legal_basis for basis in _LEGITIMATE_INTEREST_BASES)


def objectable_purposes() -> tuple[Purpose, ...]:
    """The purposes an objection (GDPR art. 21(1)) may name, in the register's order."""
    return tuple(purpose for purpose in PURPOSES if objectable(purpose))
