"""Erasure (GDPR art. 17): what it does to a person's data, and what the person is told.

Erase what may go and restrict what the law keeps (each registered section's eraser, told by the
registry's keepers what must stay and why), close and anonymise the account, delete export files.
The request around it (its lock, status and audit entry) is dsr_erasure_perform in dsr/services.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import now
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from voipxs.privacy.purposes import ERASURE_PURPOSE
from voipxs.privacy.registry import Kept, kept_for, sections

from ..models import User
from ..services.closing import account_close_and_anonymise, numbers_kept
from .export import user_exports_delete
from .open_requests import ClosedBy

# Said in every erasure answer, whatever was kept: said only when an investigation's hold keeps data,
# it would itself tell the person about the investigation.
ERASURE_LEGAL_OBLIGATIONS = gettext_lazy("Where another legal obligation makes us keep data, it is restricted "
                                         "(used only for that obligation) and deleted when the obligation ends.")

# The record of a request the erasure closed (access, portability, rectification, restriction): nothing is left to
# hand over, correct or restrict. In the person's language, as every answer; the number is the erasure request's.
CLOSED_BY_ERASURE = gettext_noop("Closed without further action: your account and your data were erased at your "
                                 "request (request #%(number)s), so there is nothing left to hand over, correct or "
                                 "restrict.")


@dataclass(frozen=True)
class Erasure:
    stamp: datetime  # when the account was closed and anonymised
    kept: list[Kept]  # what the registry's keepers said must stay
    outcome: dict  # counts per section and what was kept, told and withheld: the DPO's record, never data
    answer: str  # what the person reads


def erasure_apply(*, user: User, stamp: datetime | None = None) -> Erasure:
    """Erase `user` (locked by the caller) in every section, close and anonymise the account, delete exports.
    `stamp`: when the erasure took place (default now); a replay after a restore gives the original erasure's
    time, so the numbers' periods end then and the CIOT history never shows the person holding one after it."""
    kept = kept_for(user)
    stamp = stamp or now()
    language = user.language  # before the anonymisation: what the person reads is in their language
    counts: dict[str, dict] = {}
    for section in sections():
        if section.eraser is not None:
            counts[section.name] = section.eraser(user, kept)
    counts["account"] = account_close_and_anonymise(user=user, keep_numbers=numbers_kept(kept), stamp=stamp)
    user_exports_delete(user_id=user.pk)
    with translation.override(language or translation.get_language()):  # never chose: the page's language
        outcome = {"counts": counts, "kept": _kept_summary(kept), "kept_withheld": _kept_summary(kept, withheld=True)}
        return Erasure(stamp=stamp, kept=kept, outcome=outcome, answer=_erasure_answer(kept))


def _kept_summary(kept: list[Kept], *, withheld: bool = False) -> list[dict]:
    """What the person is told was kept; with `withheld`, what is kept without telling them (a criminal
    investigation's hold), for the DPO's record only. `category` and `reason` as recorded (keys, English);
    `category_label` and `reason_shown` as the person read them, in their language."""
    return [{"category": k.category, "reason": k.reason, "legal_basis": k.legal_basis,
             "until": k.until.isoformat() if k.until else None, "count": k.count,
             "category_label": str(k.category_label or k.category), "reason_shown": str(k.reason_shown or k.reason)}
            for k in kept if k.withheld_from_subject == withheld]


def _erasure_answer(kept: list[Kept]) -> str:
    told = [k for k in kept if not k.withheld_from_subject]
    if not told:
        return "\n".join([_("Your account is closed and your data has been erased."), str(ERASURE_LEGAL_OBLIGATIONS)])
    lines = [_("Your account is closed and your profile and login data are erased. "
               "The law makes us keep the following; it is restricted (used only for that reason) until its deletion date:")]
    deleted = _("deleted")  # not inside the f-string, where makemessages does not find it
    for k in told:
        until = date_format(k.until, "DATE_FORMAT") if k.until else _("until the reason ends")
        lines.append(f"- {k.category_label or k.category}: {k.reason_shown or k.reason} ({k.legal_basis}); "
                     f"{deleted}: {until}")
    lines.append(str(ERASURE_LEGAL_OBLIGATIONS))
    return "\n".join(lines)


def closed_by_erasure(erasure_id: int) -> ClosedBy:
    """How an erasure closes the person's other open requests (dsr/open_requests.py): its sentence, naming the
    erasure request's number, and the outcome and audit entry that name it too."""
    return ClosedBy(sentence=CLOSED_BY_ERASURE, params={"number": erasure_id},
                    outcome={"closed_by_erasure": {"request": erasure_id}}, action="dsr.close_erased",
                    purpose=ERASURE_PURPOSE, extra={"erasure": erasure_id})
