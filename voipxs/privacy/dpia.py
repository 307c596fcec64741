"""The data protection impact assessment (GDPR art. 35), generated from the same tables as the register.

The Dutch DPA's list of processing that always needs a DPIA names communication (traffic) data at scale,
so VoIPXS keeps one. It is not written by hand: the systematic description comes from the purposes
(`purposes.PURPOSES`), the categories held and the retention policies in force come from the registry
(`processing_register`), and the risks and measures below name the purposes they concern. A purpose that
no risk names makes generation fail (`IncompleteDpia`), so a new purpose cannot ship without being assessed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from django.utils import translation

from .purposes import PURPOSES, Purpose
from .register import SECURITY_MEASURES, _cell, processing_register

DPIA_VERSION = "3"
# What each version assessed: the SHA-256 of its purposes (with their register fields), risks and measures
# (`dpia_fingerprint`). A change to any of them is a new assessment for the DPO to advise on, so it needs a new
# version: add it here with the new fingerprint and raise DPIA_VERSION (tests/voipxs/test_purpose_records.py
# fails until both are done). The retention periods in force are not part of it: the DPO changes them in the
# app, audited, and the generated DPIA shows them as they are.
DPIA_ASSESSED: dict[str, str] = {
    "2": "2529821bb05918283b49a0c9b4e47a982b9ffec40c1e7842ee7e27e3f64039c8",
    # 3: support sees a customer's click-to-call set-ups of the last 30 days, the number called masked
    "3": "5da4fec25051987cd7c9167e0ae84f848f8b5eb38e342a4561f60afe9c3ee0f8",
}


class IncompleteDpia(Exception):
    """A purpose is not covered by any risk of the assessment."""


@dataclass(frozen=True)
class Risk:
    key: str
    description: str
    purposes: tuple[Purpose, ...]
    likelihood: str  # before measures: low / medium / high
    severity: str
    measures: tuple[str, ...]  # indexes into MEASURES
    residual: str  # after measures


# Each measure is a control the code enforces, with where; a test or a module backs every line.
MEASURES: dict[str, str] = {
    "purpose": "every read of personal data names a purpose granted to the role, and is audited (voipxs/privacy/purposes.py)",
    "audit": "append-only, hash-chained audit log, checked daily (voipxs/privacy/audit.py)",
    "encryption": "numbers and e-mail addresses encrypted (AES-256-GCM); blind indexes for lookups (voipxs/privacy/crypto.py)",
    "shredding": "call numbers under a month key destroyed when the month is purged (traffic, retention)",
    "retention": "automatic deletion by the retention policies in force; legal holds (retention/purge/)",
    "four_eyes": "disclosures need two distinct approvers and a verified authority (disclosures/)",
    "masking": "the Contractor sees its users' traffic with numbers masked (traffic/selectors/)",
    "mfa": "two-factor authentication for every staff role (accounts/services/sign_in.py)",
    "dsr": "access, export, erasure and restriction handled with deadlines (accounts/dsr/)",
    "support_scope": "support finds an account only by an exact number or e-mail (blind index), sees account and "
                     "number details and the last 30 days' click-to-call set-ups with the number called "
                     "masked, never call records, and records a reason for each action (accounts/support/)",
    "minimal_setup": "the extension sends only the number (no credentials, no referrer) and the API accepts "
                     "exactly `number` and `from`, reading no request header; set-ups kept 30 days (traffic/callsetup/)",
    "minimal_file": "the CIOT file holds only the fields the Bvgt names; each sync logged, failures alerted (accounts/ciot/)",
}

RISKS: tuple[Risk, ...] = (
    Risk("unauthorised-access", "Staff or a compromised account read traffic or user data beyond their task.",
         (Purpose.BILLING, Purpose.INTERCONNECTION, Purpose.SELF_SERVICE, Purpose.SECURITY),
         "medium", "high", ("purpose", "audit", "mfa", "encryption"), "low"),
    Risk("over-retention", "Traffic data kept longer than billing or the law allows (Tw 11.5, GDPR 5(1)(e)).",
         (Purpose.BILLING, Purpose.INTERCONNECTION, Purpose.DISPUTE, Purpose.SECURITY),
         "medium", "high", ("retention", "shredding"), "low"),
    Risk("unlawful-disclosure", "Data handed to a forged or unauthorised requester, or beyond the order's scope.",
         (Purpose.LEGAL_OBLIGATION, Purpose.DISPUTE), "medium", "high", ("four_eyes", "audit", "purpose"), "low"),
    Risk("contractor-overreach", "A Contractor learns whom its users called, or another Contractor's traffic.",
         (Purpose.CONTRACTOR_INFORMATION,), "medium", "medium", ("masking", "purpose"), "low"),
    Risk("stale-subscriber-file", "The CIOT file names a former holder of a number (after porting or closure), "
         "pointing an investigation at the wrong person; or it holds more than the law asks.",
         (Purpose.CIOT,), "medium", "high", ("minimal_file", "audit", "encryption"), "low"),
    Risk("support-pretexting", "Someone posing as a customer talks support into unlocking the account, "
         "resetting its second factor or revealing its details.",
         (Purpose.CUSTOMER_SUPPORT,), "medium", "high", ("support_scope", "audit", "mfa", "purpose"), "low"),
    Risk("page-leak-through-call-setup", "Setting up a call from a web page sends the provider more than the "
         "chosen number: the page's address, its text, cookies or the browsing history.",
         (Purpose.CALL_SETUP,), "medium", "medium", ("minimal_setup", "purpose", "audit"), "low"),
    Risk("subject-rights-missed", "A person's access, erasure or restriction request is not answered in time.",
         (Purpose.SELF_SERVICE,), "low", "medium", ("dsr",), "low"),
)


def dpia_fingerprint(*, risks: tuple[Risk, ...] | None = None, members: Any = None,
                     purposes: Mapping[Any, Any] | None = None) -> str:
    """The SHA-256 of what the assessment covers (see DPIA_ASSESSED); the arguments are for tests."""
    risks = RISKS if risks is None else risks
    table = PURPOSES if purposes is None else purposes
    members = list(Purpose) if members is None else list(members)
    content = {"purposes": [[str(getattr(p, "value", p)), asdict(table[p]) if p in table else None] for p in members],
               "risks": [asdict(r) for r in risks], "measures": MEASURES}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _covered(risks: tuple[Risk, ...], members: list[Any]) -> None:
    named = {p for r in risks for p in r.purposes}
    for purpose in members:
        if purpose not in named:
            raise IncompleteDpia(f"purpose {getattr(purpose, 'value', purpose)} is named by no risk of the DPIA")
    for r in risks:
        unknown = [m for m in r.measures if m not in MEASURES]
        if unknown:
            raise IncompleteDpia(f"risk {r.key} names unknown measures {unknown}")


def dpia_markdown(*, risks: tuple[Risk, ...] | None = None, members: Any = None,
                  purposes: Mapping[Any, Any] | None = None) -> str:
    """The DPIA as Markdown, in English whatever the session's language (as the register).
    `risks`/`members`/`purposes` are for tests (an incomplete assessment)."""
    with translation.override("en"):
        return _dpia_markdown(risks=risks, members=members, purposes=purposes)


def _dpia_markdown(*, risks: tuple[Risk, ...] | None, members: Any, purposes: Mapping[Any, Any] | None) -> str:
    risks = RISKS if risks is None else risks
    members = list(Purpose) if members is None else list(members)
    _covered(risks, members)
    reg = processing_register(purposes=purposes, members=members)
    out = [f"# Data protection impact assessment (GDPR art. 35), version {DPIA_VERSION}", "",
           f"Controller: {reg['controller']['name']}; advice of the DPO: {reg['controller']['dpo']}.",
           "Why: the Dutch DPA's list makes a DPIA mandatory for communication (traffic) data processed at scale.",
           "Generated from the code (purposes, registered categories, retention policies in force, risks and measures).",
           "", "## 1. Systematic description of the processing", "",
           "| purpose | description | legal basis | data categories | recipients |", "|---|---|---|---|---|"]
    for a in reg["activities"]:
        out.append("| " + " | ".join(_cell(x) for x in (a["name"], a["description"], a["legal_basis"],
                                                          ", ".join(a["data_categories"]), ", ".join(a["recipients"]))) + " |")
    out += ["", "## 2. Necessity and proportionality", "", "| purpose | retention |", "|---|---|"]
    out += ["| " + _cell(a["name"]) + " | " + _cell(a["retention"]) + " |" for a in reg["activities"]]
    if reg["retention_policies"]:
        out += ["", "Retention policies in force:", "", "| category | kept | from | then |", "|---|---|---|---|"]
        out += ["| " + " | ".join(_cell(p.get(k, "")) for k in ("label", "period", "trigger", "action")) + " |"
                for p in reg["retention_policies"]]
    out += ["", "Categories of personal data held:", ""]
    out += [f"- {c['category']} ({c['purpose']}): {c['retention']}" for c in reg["categories"]]
    out += ["", "## 3. Risks to the rights and freedoms of data subjects", "",
            "| risk | purposes | likelihood | severity | measures | residual |", "|---|---|---|---|---|---|"]
    for r in risks:
        out.append("| " + " | ".join(_cell(x) for x in (
            f"{r.key}: {r.description}", ", ".join(str(getattr(p, "value", p)) for p in r.purposes),
            r.likelihood, r.severity, ", ".join(r.measures), r.residual)) + " |")
    out += ["", "## 4. Measures", ""] + [f"- **{k}**: {v}" for k, v in MEASURES.items()]
    out += ["", "General security measures (from the register):", ""] + [f"- {m}" for m in SECURITY_MEASURES]
    high = [r.key for r in risks if r.residual == "high"]
    out += ["", "## 5. Conclusion", "",
            ("Residual risk high for: " + ", ".join(high) + ". Prior consultation of the DPA (GDPR art. 36) needed.")
            if high else "No residual risk is high; no prior consultation of the DPA (GDPR art. 36) is needed.",
            "", "DPO advice: ____  Date: ____  Approved by the controller: ____", ""]
    return "\n".join(out)
