"""Which rows the purge removes and which it keeps: cutoffs from the policies in force, and the rules
that protect rows (open or disputed invoices, an invoice's `calls_kept_until`, legal holds) as querysets
and Q objects. `calls_kept_until` is the end of the dispute window, moved on by the invoice services when
a dispute is decided (an upheld dispute's void invoice keeps them as long for its corrected one); an
empty one (invoices from before 2026-12) protects its calls.

A row goes only if no rule protects it; an unknown invoice state protects its calls (see run.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils.timezone import localdate

from accounts.models import PhoneNumber
from traffic.models import Invoice
from traffic.partitions import add_months, month_bounds, partitioning_enabled
from voipxs.privacy.purposes import SystemActor

from ..models import Category, LegalHold
from ..selectors import legal_holds_active, retention_policy_at

# The actor of the purge's audit entries and of the writes it asks other apps' services for.
PURGE_ACTOR = SystemActor("purge_expired")
# Invoices whose calls may go once their keep-until has passed: nothing is owed or contested.
SETTLED_STATUSES = (Invoice.Status.PAID, Invoice.Status.VOID)
# Defaults used when a category has no policy row (never in a migrated database; a safety net).
_FALLBACK_PERIODS = {Category.CDR_UNBILLED: (3, 0), Category.CDR_TECHNICAL: (0, 30), Category.INVOICE: (84, 0)}


# --- time ---------------------------------------------------------------------------------------------

def shift_months(moment: datetime | date, months: int) -> datetime | date:
    """`moment` moved by whole calendar months, the day clamped to the target month's length."""
    first = add_months(date(moment.year, moment.month, 1), months)
    last_day = (add_months(first, 1) - timedelta(days=1)).day
    return moment.replace(year=first.year, month=first.month, day=min(moment.day, last_day))


def period_cutoff(category: str, now: datetime) -> datetime:
    """The moment before which `category`'s data is past the period of the policy in force at `now`."""
    policy = retention_policy_at(category=category, at=now)
    months, days = (policy.period_months, policy.period_days) if policy else _FALLBACK_PERIODS[category]
    return shift_months(now, -months) - timedelta(days=days)


@dataclass
class Cutoffs:
    now: datetime
    today: date  # in Amsterdam
    unbilled: datetime  # unbilled calls that started before this go
    technical: datetime  # technical identifiers of calls that started before this go
    invoice: datetime  # invoices issued before this go
    billed_period: tuple[int, int]  # (months, days) after an invoice's calls_kept_until (policy cdr_billed, default 0)
    holds: dict[str, list[LegalHold]] = field(default_factory=dict)

    @classmethod
    def at(cls, now: datetime) -> "Cutoffs":
        billed = retention_policy_at(category=Category.CDR_BILLED, at=now)
        # The Amsterdam day: an invoice's date, dispute window and calls_kept_until are days there, and the DPO's
        # page (keeper.billed_calls_go_on) names the day its calls go; at 00:30 on that day they go, not at 02:00.
        # The periods themselves are moments (period_cutoff); the month drop's partitions stay UTC months by design.
        return cls(now=now, today=localdate(now),
                   unbilled=period_cutoff(Category.CDR_UNBILLED, now),
                   technical=period_cutoff(Category.CDR_TECHNICAL, now),
                   invoice=period_cutoff(Category.INVOICE, now),
                   billed_period=(billed.period_months, billed.period_days) if billed else (0, 0))

    @property
    def billed_kept_before(self) -> date:
        """A settled invoice's calls go once its calls_kept_until is before this day: the cdr_billed period
        (months and days, as the policy shows it) has passed since."""
        months, days = self.billed_period
        return shift_months(self.today, -months) - timedelta(days=days)

    def billed_calls_go_on(self, kept_until: date) -> date:
        """The first day a purge removes the calls of a settled invoice kept until `kept_until`."""
        months, days = self.billed_period
        return shift_months(kept_until, months) + timedelta(days=days + 1)

    def holds_on(self, category: str) -> list[LegalHold]:
        """The holds active at `now` that cover `category`, read once per run and category."""
        if category not in self.holds:
            self.holds[category] = legal_holds_active(at=self.now, category=category)
        return self.holds[category]


# --- what stays -------------------------------------------------------------------------------------------

def _settled_and_out(c: Cutoffs) -> Q:
    """An empty calls_kept_until never matches (NULL < day is not true): such an invoice is protected."""
    return Q(status__in=SETTLED_STATUSES, calls_kept_until__lt=c.billed_kept_before)


def protected_invoice_ids(c: Cutoffs) -> QuerySet:
    """Invoices whose calls must stay: not settled (open, disputed, anything unknown), or settled and
    not past their keep-until (the dispute window, or a decided dispute's appeal period, upheld or
    rejected). A paid invoice's calls go the day after its keep-until."""
    return Invoice.objects.exclude(_settled_and_out(c)).values("id")


def settled_invoice_ids(c: Cutoffs, *, window_ended_since: date | None = None) -> QuerySet | list[int]:
    """Invoices whose calls may go. `window_ended_since` bounds the set on PostgreSQL: an invoice whose
    keep-until ended before the oldest month that still has a partition can have no call left (a call
    precedes its invoice's window end, which its keep-until never precedes), so the daily run does not
    probe every invoice of 7 years.
    On PostgreSQL the ids are a list, so the CDR query is an index scan per partition
    (`invoice_id = ANY(...)`) rather than a join the planner might answer with a sequential scan."""
    qs = Invoice.objects.filter(_settled_and_out(c))
    if window_ended_since is not None:
        qs = qs.filter(calls_kept_until__gte=window_ended_since)
    if partitioning_enabled():
        return list(qs.values_list("id", flat=True))
    return qs.values("id")


def hold_rows_q(hold: LegalHold) -> Q:
    """The rows (of Cdr or HeldCdr: same field names) `hold` covers: its accounts' or numbers' calls in its window."""
    who = Q(pk__in=[])
    if hold.account_ids:
        who |= Q(account_id__in=hold.account_ids)
    if hold.number_indexes:
        who |= Q(src_index__in=hold.number_indexes) | Q(dst_index__in=hold.number_indexes)
    when = Q()
    if hold.window_start:
        when &= Q(started_at__gte=hold.window_start)
    if hold.window_end:
        when &= Q(started_at__lt=hold.window_end)
    return who & when


def hold_account_ids(holds: list[LegalHold]) -> set[int]:
    """Accounts `holds` name, or that held a number they name (at any time): for what is kept per account
    (invoices, a closed account's user data)."""
    held = {int(a) for hold in holds for a in hold.account_ids}
    indexes = {i for hold in holds for i in hold.number_indexes}
    if indexes:
        held.update(PhoneNumber.objects.filter(number_index__in=indexes).values_list("user_id", flat=True))
    return held


def held_q(c: Cutoffs, category: str) -> Q | None:
    """Rows (of Cdr or HeldCdr: same field names) under an active hold on `category`; None if none."""
    holds = c.holds_on(category)
    if not holds:
        return None
    q = hold_rows_q(holds[0])
    for hold in holds[1:]:
        q |= hold_rows_q(hold)
    return q


def expired_q(c: Cutoffs, category: str, *, settled_ids: QuerySet | list[int]) -> Q:
    """Rows past retention by the time rules alone (holds are applied separately); `settled_ids` are
    the invoices whose calls may go (`settled_invoice_ids`, read once per run)."""
    if category == Category.CDR_BILLED:
        return Q(invoice_id__in=settled_ids)
    # Unbilled: no invoice refers to the call. Billing invoices each month in the next one, so a call
    # without an invoice after the period (3 months) was free, failed, unrated or never billed.
    return Q(invoice_id__isnull=True, started_at__lt=c.unbilled)


# The hold categories that keep a call row: its own two, and its technical identifiers, which hang on it (the
# CdrTechnical row by cdr_id, the SIP call-id in the row itself) and would go with it (as erasure keeps them too).
CALL_HOLD_CATEGORIES = (Category.CDR_BILLED, Category.CDR_UNBILLED, Category.CDR_TECHNICAL)


def keep_q(c: Cutoffs) -> Q:
    """Rows of a fully expired month that must still be kept (copied to the hold table)."""
    q = Q(invoice_id__in=protected_invoice_ids(c)) | Q(invoice_id__isnull=True, started_at__gte=c.unbilled)
    for category in CALL_HOLD_CATEGORIES:
        extra = held_q(c, category)
        if extra is not None:
            q |= extra
    return q


def exclude_held(qs: QuerySet, c: Cutoffs, category: str) -> QuerySet:
    """`qs` (calls) without the rows an active hold on `category`, or on their technical identifiers, covers."""
    for held in {category, Category.CDR_TECHNICAL}:
        hq = held_q(c, held)
        qs = qs.exclude(hq) if hq is not None else qs
    return qs


def months_excluded(qs: QuerySet, months: list[date]) -> QuerySet:
    """`qs` without the rows that started in `months` (a dry run's months that a drop would take)."""
    for month in months:
        lower, upper = month_bounds(month)
        qs = qs.exclude(started_at__gte=lower, started_at__lt=upper)
    return qs
