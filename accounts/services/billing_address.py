"""The name and address invoices are made out to (accounts.models.BillingAddress): the customer sets
their own; for a Contractor's Users the Contractor's admin sets the Contractor's, which all its Users'
invoices carry. Validated against what a Dutch invoice needs (Wet OB: the customer's name and address)."""
from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, Role, has_role

from ..models import BillingAddress, User

FIELDS = ("name", "street", "house_number", "postcode", "town", "country")
MAX_LENGTH = 200
COUNTRY_CHOICES = (("NL", _("the Netherlands")), ("BE", _("Belgium")), ("DE", _("Germany")),
                   ("LU", _("Luxembourg")), ("FR", _("France")), ("GB", _("United Kingdom")))
COUNTRIES = tuple(code for code, _label in COUNTRY_CHOICES)  # where our customers are
_POSTCODE_NL = re.compile(r"([1-9][0-9]{3}) ?([A-Za-z]{2})")
POSTCODE_NL_INVALID = _("Enter a Dutch postcode: four digits and two letters, like 1234 AB.")
FIELD_REQUIRED = _("This field is required on an invoice.")
FIELD_TOO_LONG = _("At most 200 characters.")
COUNTRY_UNKNOWN = _("Choose one of the listed countries.")
ONLY_CONTRACTOR_ADMIN = _("Your contractor's administrator manages the address your invoices are made out to.")


def billing_address_errors(values: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """(cleaned values, {field: message}): required fields, lengths, a Dutch postcode as 1234 AB."""
    clean = {field: " ".join(str(values.get(field) or "").split()) for field in FIELDS}
    clean["country"] = (clean["country"] or "NL").upper()
    errors: dict[str, Any] = {}
    for field in FIELDS:
        if not clean[field]:
            errors[field] = FIELD_REQUIRED
        elif len(clean[field]) > MAX_LENGTH:
            errors[field] = FIELD_TOO_LONG
    if clean["country"] not in COUNTRIES:
        errors["country"] = COUNTRY_UNKNOWN
    elif clean["country"] == "NL" and clean["postcode"] and "postcode" not in errors:
        found = _POSTCODE_NL.fullmatch(clean["postcode"])
        if found is None:
            errors["postcode"] = POSTCODE_NL_INVALID
        else:
            clean["postcode"] = f"{found.group(1)} {found.group(2).upper()}"
    return clean, errors


def billing_party(user: User) -> tuple[str, int]:
    """Whose address `user`'s invoices carry: ("contractor", id) for a Contractor's User, else ("user", id)."""
    return ("contractor", user.contractor_id) if user.contractor_id else ("user", user.pk)


def billing_party_managed_by(actor: Any, user: User) -> bool:
    """Whether `actor` sets the address of `user`'s invoices: their own, or as the Contractor's admin."""
    if user.contractor_id is None:
        return getattr(actor, "pk", None) == user.pk
    return has_role(actor, Role.CONTRACTOR_ADMIN) and getattr(actor, "contractor_id", None) == user.contractor_id


@transaction.atomic
def billing_address_set(*, actor: Any, user: User, **values: str) -> BillingAddress:
    """Set the address `user`'s invoices are made out to (the Contractor's, for a Contractor's User):
    by whoever manages it, or by billing staff correcting it (audited as such). Invoices already issued
    keep the address they were issued with; a corrected invoice made later carries the new one."""
    by_billing = not billing_party_managed_by(actor, user)
    if by_billing and not has_role(actor, Role.BILLING):
        raise ApplicationError(str(ONLY_CONTRACTOR_ADMIN))
    clean, errors = billing_address_errors(values)
    if errors:
        field = next(iter(errors))
        raise ApplicationError(f"{field}: {errors[field]}", {"field": field, "errors": errors})
    kind, party_id = billing_party(user)
    address, created = BillingAddress.objects.select_for_update().get_or_create(
        **{f"{kind}_id": party_id}, defaults={**clean, "updated_at": now()})
    if not created:
        for field, value in clean.items():
            setattr(address, field, value)
        address.updated_at = now()
        address.save()
    audit_record(actor=actor, action="billing_address.set", purpose=Purpose.BILLING, target_type=kind,
                 target_id=party_id,
                 extra={"created": created, "country": clean["country"], **({"by": "billing"} if by_billing else {})})
    return address
