"""The legal-basis table: for every basis a request may name, the data categories it allows, how far
into the future it may reach, the deadlines the law sets, whether it only preserves data, and the
source. Intake, narrowing, production, the preservation jobs, the SLA timers, the officers' page of
bases and the transparency report all read this one table (shared/LEGAL.md section 5, rows 12, 13,
17, 34; section 1.5 and 1.6).

Sources and certainty (see LEGAL.md "How to read this note"; counsel to confirm the [R] ones):
- Sv 126n: traffic and user data, historical or future, future for at most 3 months [V].
- Sv 126na: identifying (user) data only [V].
- Sv 126u / 126ua: the organised-crime counterparts of 126n / 126na, "same two categories" [V]; the
  3-month future limit of 126u mirrors 126n [R].
- Sv 126zh / 126zi: the terrorism counterparts of 126n / 126na [V]; the future limit of 126zh [R].
- Sv 126ni: preservation ("bewaren en beschikbaar houden") for at most 90 days; an oral order is
  confirmed in writing within 3 days [V]. A further 90 days only under a new order [R].
- EPOC (Reg. (EU) 2023/1543): answer within 10 days, 8 hours in an emergency [V/S].
- EPOC-PR: preservation for 60 days, 30 more when the issuing authority confirms that a production
  order follows [V/S].
- Tw 11.5(6): traffic data to competent bodies settling disputes (interconnection, billing) [S/R].

Numbers that are statutory maxima live here, not in settings: a setting cannot widen the law. The
emergency written-order delay (3 days) and the reminder lead times are settings.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext_lazy as _

from .models import DataCategory, LegalBasis

USER = DataCategory.USER_DATA
TRAFFIC = DataCategory.TRAFFIC_DATA
# What an order may ask for but no basis ever gets: the content of communications (what is said in a call). VoIPXS
# records who called whom, when and for how long, never what was said, so there is nothing to produce and the answer
# is "no data" (LEGAL.md section 5, row 12). Not a DataCategory (nothing is stored under it): intake offers it so an
# officer can record what the order asks, and refuses it with its own message (services.intake.REQUEST_CONTENT_NONE).
CONTENT = "content"
CONTENT_LABEL = _("Content of communications (VoIPXS keeps none)")


@dataclass(frozen=True)
class Basis:
    code: str
    source: str  # the citation; its English gloss, where it has one, is translated
    categories: frozenset[str]
    # How far past the moment the order is received the window may reach (None: no statutory limit).
    future_months: int | None = None
    # Preservation only: nothing is produced; the hold expires after `preserve_days`, and one renewal
    # under a recorded new order adds `renewal_days`.
    preserve_days: int | None = None
    renewal_days: int | None = None
    # A statutory time to answer (e-Evidence), and the shorter one in an emergency.
    answer_hours: int | None = None
    emergency_answer_hours: int | None = None
    notice_by_default: bool = False
    note: str = ""

    @property
    def preservation(self) -> bool:
        return self.preserve_days is not None

    @property
    def answer_days(self) -> int | None:
        return None if self.answer_hours is None else self.answer_hours // 24

    @property
    def label(self) -> str:
        return LegalBasis(self.code).label

    @property
    def category_labels(self) -> list[str]:
        return [DataCategory(c).label for c in sorted(self.categories)]

    def future_limit(self, received_at: datetime) -> datetime | None:
        """The latest moment the window may end at, for an order received at `received_at`."""
        return None if self.future_months is None else received_at + relativedelta(months=self.future_months)

    def answer_due(self, received_at: datetime, *, emergency: bool) -> datetime | None:
        hours = self.emergency_answer_hours if emergency and self.emergency_answer_hours else self.answer_hours
        return None if hours is None else received_at + timedelta(hours=hours)

    def preserve_until(self, received_at: datetime) -> datetime | None:
        return None if self.preserve_days is None else received_at + timedelta(days=self.preserve_days)


BASES: dict[str, Basis] = {b.code: b for b in (
    Basis(LegalBasis.SV_126N, "Sv art. 126n; Besluit vorderen gegevens telecommunicatie", frozenset({USER, TRAFFIC}),
          future_months=3, note=_("Serious offence (art. 67(1)); future data at most 3 months.")),
    Basis(LegalBasis.SV_126NA, "Sv art. 126na", frozenset({USER}),
          note=_("Identifying data only: name, address, number, service.")),
    Basis(LegalBasis.SV_126U, _("Sv art. 126u (organised crime)"), frozenset({USER, TRAFFIC}),
          future_months=3, note=_("Organised crime; future data at most 3 months.")),
    Basis(LegalBasis.SV_126UA, _("Sv art. 126ua (organised crime)"), frozenset({USER}),
          note=_("Organised crime; identifying data only.")),
    Basis(LegalBasis.SV_126ZH, _("Sv art. 126zh (terrorism)"), frozenset({USER, TRAFFIC}),
          future_months=3, note=_("Indications of terrorism; future data at most 3 months.")),
    Basis(LegalBasis.SV_126ZI, _("Sv art. 126zi (terrorism)"), frozenset({USER}),
          note=_("Indications of terrorism; identifying data only.")),
    Basis(LegalBasis.SV_126NI, "Sv art. 126ni", frozenset({USER, TRAFFIC}),
          preserve_days=90, renewal_days=90,
          note=_("Preservation only, at most 90 days; a renewal needs a new order.")),
    Basis(LegalBasis.EU_PRODUCTION, _("Reg. (EU) 2023/1543 art. 10 (EPOC)"), frozenset({USER, TRAFFIC}),
          answer_hours=10 * 24, emergency_answer_hours=8,
          note=_("European Production Order: answer within 10 days, 8 hours in an emergency.")),
    Basis(LegalBasis.EU_PRESERVATION, _("Reg. (EU) 2023/1543 art. 11 (EPOC-PR)"), frozenset({USER, TRAFFIC}),
          preserve_days=60, renewal_days=30,
          note=_("European Preservation Order: 60 days, 30 more on request of the issuing authority.")),
    Basis(LegalBasis.COURT_ORDER, _("Court order (civil procedure)"), frozenset({USER, TRAFFIC}),
          notice_by_default=True, note=_("The user is told unless a secrecy order says otherwise.")),
    Basis(LegalBasis.DISPUTE_RULING, "Tw art. 11.5(6); ePrivacy art. 6(6)", frozenset({USER, TRAFFIC}),
          notice_by_default=True,
          note=_("Competent bodies settling disputes (interconnection, billing).")),
)}

assert set(BASES) == set(LegalBasis.values), "every legal basis needs a row in the table"

PRESERVATION_BASES = frozenset(code for code, b in BASES.items() if b.preservation)
NOTICE_BY_DEFAULT_BASES = frozenset(code for code, b in BASES.items() if b.notice_by_default)
# The bases a preservation order may be converted into (a production order on the same scope).
PRODUCTION_BASES = frozenset(code for code, b in BASES.items() if not b.preservation)


def basis_of(code: str) -> Basis:
    return BASES[code]


def scope_excess(*, legal_basis: str, categories, window_end: datetime, received_at: datetime) -> str | None:
    """What of the scope goes beyond its basis ("categories", "window_end"), or None. Intake, narrowing,
    conversion and the package build all ask this, so no production covers more than the basis allows."""
    basis = BASES[legal_basis]
    if not set(categories) <= basis.categories:
        return "categories"
    limit = basis.future_limit(received_at)
    if limit is not None and window_end > limit:
        return "window_end"
    return None
