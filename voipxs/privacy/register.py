"""The processing register (GDPR art. 30), generated from the purposes table and the retention policies.

The purposes come from `voipxs.privacy.purposes.PURPOSES`; the categories of personal data, their legal basis
and retention come from the sections every app registers in `voipxs.privacy.registry`. Nothing is typed in
twice, so the register cannot drift from what the code enforces. A purpose without its complete
register fields makes generation fail (`IncompleteRegister`).
"""
from __future__ import annotations

import json
from dataclasses import fields
from typing import Any, Mapping

from django.utils import translation

from .purposes import PURPOSES, ROLE_PURPOSES, Purpose, PurposeInfo, Role, objectable
from .purposes_nl import register_cell
from .registry import retention_policies, sections

CONTROLLER = {
    "name": "VoIPXS B.V.",
    "contact": "privacy@voipxs.invalid",
    "dpo": "the data protection officer of VoIPXS (privacy@voipxs.invalid)",
}
SECURITY_MEASURES = (
    "Numbers and e-mail addresses encrypted with AES-256-GCM, exact lookups through HMAC blind indexes",
    "Call numbers encrypted under a key per month; a purged month's key is destroyed (crypto-shredding)",
    "Every access to personal data bound to a purpose and recorded in a hash-chained, append-only audit log",
    "Two-factor authentication for every staff role; least privilege through purposes per role",
    "Automatic deletion by retention policy; legal holds; restriction (GDPR art. 18)",
)
TRANSFERS = "No transfers outside the EEA."
JOBS_ONLY = "scheduled jobs only"


class IncompleteRegister(Exception):
    """A purpose lacks a field the register must show."""


def _check(purpose: Any, info: Any) -> None:
    if not isinstance(info, PurposeInfo):
        raise IncompleteRegister(f"purpose {purpose} has no PurposeInfo")
    for f in fields(PurposeInfo):
        value = getattr(info, f.name, None)
        empty = not value or (isinstance(value, tuple) and not all(str(v).strip() for v in value)) \
            or (isinstance(value, str) and not value.strip())
        if empty:
            raise IncompleteRegister(f"purpose {purpose} lacks '{f.name}' for the processing register")


def processing_register(*, purposes: Mapping[Any, Any] | None = None, members: Any = None) -> dict:
    """The register as a dict. `purposes`/`members` are for tests (a fake incomplete table)."""
    table = PURPOSES if purposes is None else purposes
    members = list(Purpose) if members is None else list(members)
    activities = []
    for purpose in members:
        info = table.get(purpose)
        _check(purpose, info)
        activities.append({
            "purpose": str(purpose.value if hasattr(purpose, "value") else purpose),
            "name": str(getattr(purpose, "label", purpose)),
            "description": info.description,
            "legal_basis": info.legal_basis,
            "data_subjects": ["customers (Users)", "contractors' contact persons"],
            "data_categories": list(info.data_categories),
            "recipients": list(info.recipients),
            "retention": info.retention,
            "policy_reference": info.policy_reference,
            "categories_held": [s.name for s in sections() if s.purpose == str(getattr(purpose, "value", purpose))],
            "roles": roles_holding(purpose),
            # GDPR art. 21(1): the person may object where the basis is legitimate interests (art. 6(1)(f)).
            "objection": objectable(purpose),
        })
    categories = [{"category": s.name, "label": str(s.label or s.name), "description": s.description,
                   "purpose": s.purpose, "purpose_label": _purpose_label(s.purpose),
                   "legal_basis": s.legal_basis, "retention": s.retention} for s in sections()]
    return {"controller": CONTROLLER, "activities": activities, "categories": categories,
            "retention_policies": retention_policies(),
            "security_measures": list(SECURITY_MEASURES), "transfers": TRANSFERS}


def roles_holding(purpose: Any) -> list[str]:
    """The roles that may use `purpose`, by name in the active language, in `Role`'s order: the role-purpose matrix
    that `purposes_of` enforces (ROLE_PURPOSES), read from the same table. Empty: only scheduled jobs use it."""
    return [str(role.label) for role in Role if purpose in ROLE_PURPOSES.get(role, ())]


def _purpose_label(purpose: str) -> str:
    """A purpose by its name in the active language ("billing": "Invoicing the amounts due")."""
    return str(Purpose(purpose).label) if purpose in Purpose.values else purpose


_SHOWN_ACTIVITY = ("description", "legal_basis", "data_categories", "recipients", "retention", "policy_reference")
_SHOWN_CATEGORY = ("legal_basis", "retention")


def processing_register_shown(language: str) -> dict:
    """The register as the DPO's page shows it: each English text of record as a cell in `language` where it has its
    translation (purposes_nl), else as written, marked "lang": "en" (`register_cell`). The names of purposes,
    categories and roles come translated already; the Markdown download stays the English document of record."""
    language = (language or "en").split("-")[0]
    reg = processing_register()
    for activity in reg["activities"]:
        activity.update({key: register_cell(activity[key], language) for key in _SHOWN_ACTIVITY})
    for category in reg["categories"]:
        category.update({key: register_cell(category[key], language) for key in _SHOWN_CATEGORY})
    reg["security_measures"] = [register_cell(m, language) for m in reg["security_measures"]]
    reg["transfers"] = register_cell(reg["transfers"], language)
    return reg


def processing_register_json(**kwargs: Any) -> str:
    return json.dumps(processing_register(**kwargs), indent=2, ensure_ascii=False)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def processing_register_markdown(**kwargs: Any) -> str:
    """The register as a document of record, in English whatever the session's language: its fixed text
    is English, so the purposes and periods it lists are too (not "7 jaar" in an English table)."""
    with translation.override("en"):
        return _register_markdown(processing_register(**kwargs))


def _register_markdown(reg: dict) -> str:
    out = ["# Processing register (GDPR art. 30)", "",
           f"Controller: {reg['controller']['name']} ({reg['controller']['contact']}); DPO: {reg['controller']['dpo']}.", "",
           "## Processing activities", "",
           "| purpose | description | legal basis | data categories | recipients | used by | retention | policy "
           "| objection (art. 21) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for a in reg["activities"]:
        out.append("| " + " | ".join(_cell(x) for x in (
            a["name"], a["description"], a["legal_basis"], ", ".join(a["data_categories"]),
            ", ".join(a["recipients"]), ", ".join(a["roles"]) or JOBS_ONLY, a["retention"], a["policy_reference"],
            "applies" if a["objection"] else "does not apply")) + " |")
    out += ["", "## Categories of personal data held (from the apps' registered sections)", "",
            "| category | purpose | legal basis | retention |", "|---|---|---|---|"]
    for c in reg["categories"]:
        out.append("| " + " | ".join(_cell(x) for x in (c["category"], c["purpose"], c["legal_basis"], c["retention"])) + " |")
    if reg["retention_policies"]:
        out += ["", "## Retention policies in force", "", "| category | kept | from | then | legal basis |", "|---|---|---|---|---|"]
        for p in reg["retention_policies"]:
            out.append("| " + " | ".join(_cell(p.get(k, "")) for k in ("label", "period", "trigger", "action", "legal_basis")) + " |")
    out += ["", "## Security measures", ""] + [f"- {m}" for m in reg["security_measures"]]
    out += ["", "## Transfers", "", reg["transfers"], ""]
    return "\n".join(out)
