"""What accounts holds about a person, for the data-subject registry, and the demo seeder."""
from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any, Iterable

from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from voipxs.privacy.purposes import STAFF_ROLES, Role
from voipxs.privacy.registry import Section, register_demo_seeder, register_section

from .dsr.restriction import restriction_export_fields
from .models import Contractor, User
from .selectors import user_itemisation_get
from .ciot.services import subscriber_details_set
from .services.numbers import phone_number_assign
from .services.users import contractor_create, user_create


def _export_profile(user: Any) -> Iterable[dict]:
    yield {
        "login_name": user.username,
        "email": user.email or "",
        "contractor": user.contractor.name if user.contractor_id else "",
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "roles": sorted(user.groups.values_list("name", flat=True)),
        # The choices the person made about their bills (a Contractor's User: the Contractor's setting).
        "number_masked_on_others_bills": user.number_masked,
        "itemised_bills": user_itemisation_get(user=user),
        # The language of the e-mails to them, as they chose it in the portal ("": never chose, the site's default).
        "language": user.language,
        # GDPR art. 18: whether the processing of the person's data is restricted, since when, on which
        # ground of art. 18(1) and until which last day.
        **restriction_export_fields(user),
    }


def _export_numbers(user: Any) -> Iterable[dict]:
    for phone in user.phone_numbers.order_by("valid_from"):
        yield {
            "number": phone.number,
            "label": phone.label,
            "valid_from": phone.valid_from.isoformat(),
            "valid_to": phone.valid_to.isoformat() if phone.valid_to else None,
        }


register_section(Section(
    name="profile", label=_("Account"), order=10, purpose="self_service",
    legal_basis="GDPR art. 6(1)(b) contract",
    retention="until the account is closed and its final invoice settled, plus 30 days",
    exporter=_export_profile,
    description="Login name, e-mail address, contractor, roles.",
))
register_section(Section(
    name="numbers", label=_("Numbers"), order=20, purpose="billing",
    legal_basis="GDPR art. 6(1)(b) contract; Tw art. 11.5(2)",
    retention="as the profile; the assignment periods as long as CDRs that refer to them",
    exporter=_export_numbers,
    description="Telephone numbers you hold or held, with their periods.",
))



def _export_subscriber_details(user: Any) -> Iterable[dict]:
    for d in user.subscriber_details.order_by("valid_from"):
        yield {"name": d.name, "street": d.street, "house_number": d.house_number, "postcode": d.postcode,
               "town": d.town, "valid_from": d.valid_from.isoformat(),
               "valid_to": d.valid_to.isoformat() if d.valid_to else None}


register_section(Section(
    name="subscriber_details", label=_("Subscriber details (CIOT)"), order=25, purpose="ciot",
    legal_basis="GDPR art. 6(1)(c); Tw art. 13.4(3); Bvgt",
    retention="as the profile; kept available to the CIOT while the account exists",
    exporter=_export_subscriber_details,
    description="Your name and address as given to the CIOT subscriber file, with the periods they applied.",
))



def _export_billing_address(user: Any) -> Iterable[dict]:
    # The user's own invoice address; a Contractor's is the Contractor's data, not the user's.
    address = getattr(user, "billing_address", None) if user.contractor_id is None else None
    if address is not None:
        yield {"name": address.name, "street": address.street, "house_number": address.house_number,
               "postcode": address.postcode, "town": address.town, "country": address.country,
               "updated_at": address.updated_at.isoformat()}


register_section(Section(
    name="billing_address", label=_("Invoice address"), order=26, purpose="billing",
    legal_basis="GDPR art. 6(1)(b) contract; Wet OB art. 35a (the invoice names the customer)",
    retention=("until the closed account is anonymised (a Contractor's: once its contract ended and its last "
               "user was anonymised); each invoice keeps its own copy for 7 years (AWR art. 52)"),
    exporter=_export_billing_address,
    description="The name and address your invoices are made out to.",
))

DEMO_PASSWORD = "demo-voipxs-2026"


def _totp_secret_b32(device: Any) -> str:
    return base64.b32encode(bytes.fromhex(device.key)).decode().rstrip("=")


def seed_accounts(stdout: Any) -> None:
    """Idempotent: re-running finds the demo users by login name and leaves them as they are."""
    acme = Contractor.objects.filter(name="Acme BV").first()
    if acme is None:  # bills are not itemised by default (GDPR art. 25); the demo's customers opted in
        acme = contractor_create(name="Acme BV", itemisation="full")
    # Fictitious numbers in the 555 block; no real subscriber holds them.
    people = [
        ("alice", "alice@example.org", [Role.CUSTOMER], None, ["+31205550101", "+31699996010"]),
        ("acme-admin", "it@acme.example", [Role.CUSTOMER, Role.CONTRACTOR_ADMIN], acme, ["+31205550200"]),
        ("bob", "bob@acme.example", [Role.CUSTOMER], acme, ["+31205550201"]),
        ("carol", "carol@acme.example", [Role.CUSTOMER], acme, ["+31205550202"]),
        ("billing", "billing@voipxs.example", [Role.BILLING], None, []),
        ("legal1", "legal1@voipxs.example", [Role.LEGAL_OFFICER], None, []),
        ("legal2", "legal2@voipxs.example", [Role.LEGAL_OFFICER], None, []),
        ("legal3", "legal3@voipxs.example", [Role.LEGAL_OFFICER], None, []),
        ("dpo", "dpo@voipxs.example", [Role.DPO], None, []),
        ("support", "support@voipxs.example", [Role.SUPPORT], None, []),
        ("admin", "admin@voipxs.example", [Role.ADMIN], None, []),
        ("noc", "noc@voipxs.example", [Role.NOC], None, []),
        ("fraud", "fraud@voipxs.example", [Role.FRAUD], None, []),
    ]
    stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, email, roles, contractor, numbers in people:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, password=DEMO_PASSWORD, email=email, roles=roles,
                               contractor=contractor, itemisation="full" if username == "alice" else "none")
            for number in numbers:
                phone_number_assign(user=user, number=number, valid_from=now() - timedelta(days=400))
            if numbers:  # fictitious addresses: the CIOT file (accounts/ciot/) needs a name and address per number
                subscriber_details_set(user=user, actor=None, at=now() - timedelta(days=400),
                                       name=f"{username.title()} Demo", street="Voorbeeldstraat",
                                       house_number=str(len(username)), postcode="1234 AB", town="Amsterdam")
        line = f"  {username:<11} {', '.join(roles):<28}"
        held = [p.number for p in user.phone_numbers.order_by("valid_from")]
        if held:
            line += " numbers: " + " ".join(held)
        if set(roles) & STAFF_ROLES:
            device = TOTPDevice.objects.filter(user=user, name="demo").first()
            if device is None:
                device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
            line += f" TOTP secret: {_totp_secret_b32(device)}"
        stdout.write(line)


register_demo_seeder(10, "accounts", seed_accounts)
