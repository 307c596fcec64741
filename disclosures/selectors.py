"""Reads of the disclosures app. The rows of a package come from `disclosure_scope_rows` only: its
query is generated from the approved scope (targets, window) and nothing else, so no officer can
run a free query through a disclosure. Every read checks the actor's purpose (LEGAL_OBLIGATION, or
DISPUTE for dispute bodies) and is audited by `require_purpose`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from statistics import median
from typing import Iterator

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.timezone import now as tz_now

from accounts.models import PhoneNumber, User
from traffic.selectors.call_legs import call_key
from traffic.selectors.cdr_reader import CallDecryptor, calls_matching
from voipxs.privacy.purposes import Purpose, require_purpose
from voipxs.timeutil import day_start

from .bases import PRESERVATION_BASES
from .selectors_notice import HANDED_OVER, disclosures_told_of
from .suppression import suppressed
from .models import (
    DISPUTE_AUTHORITY_KINDS,
    OPEN_STATUSES,
    Authority,
    AuthorityKind,
    DisclosureDocument,
    DisclosureRequest,
    DisclosureTarget,
    LegalBasis,
    Notice,
    Outcome,
    Status,
)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime  # exclusive

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Scope:
    """The approved scope, in the form the production query and the row check both use."""

    request_id: int
    window: Interval
    # blind index -> the intervals in which one of our users held the number (clipped to the window)
    numbers: dict[str, tuple[Interval, ...]]
    accounts: frozenset[int]
    categories: tuple[str, ...]

    def admits(self, *, src_index: str, dst_index: str, account_id: int | None, started_at: datetime) -> bool:
        if not self.window.contains(started_at):
            return False
        if account_id is not None and account_id in self.accounts:
            return True
        for index in (src_index, dst_index):
            if any(iv.contains(started_at) for iv in self.numbers.get(index, ())):
                return True
        return False

    def held_in_scope(self, index: str, start: datetime, end: datetime | None) -> bool:  # end None: still held
        return any(iv.start < (end or iv.end) and start < iv.end for iv in self.numbers.get(index, ()))


@dataclass(frozen=True)
class Row:
    cdr_id: int
    started_at: datetime
    answered_at: datetime | None
    duration: int
    billsec: int
    direction: str
    disposition: str
    src: str
    dst: str
    src_index: str
    dst_index: str
    account_id: int | None
    call: str = ""  # the call this record is a leg of (traffic.selectors.call_legs.call_key)


def authority_purpose(authority: Authority) -> Purpose:
    """The purpose an authority's requests serve, and so the record kept of it: a dispute body's, disputes."""
    return Purpose.DISPUTE if authority.kind in DISPUTE_AUTHORITY_KINDS else Purpose.LEGAL_OBLIGATION


def request_purpose(req: DisclosureRequest) -> Purpose:
    return authority_purpose(req.authority)


def scope_of(req: DisclosureRequest) -> Scope:
    """Numbers held by someone else than our users at the time (not assigned by us) are not ours to
    give: a number target only covers the periods in which a user of ours held it."""
    window = Interval(req.window_start, req.window_end)
    targets = list(req.targets.all())
    indexes = sorted({t.number_index for t in targets if t.number_index})
    numbers: dict[str, list[Interval]] = {i: [] for i in indexes}
    periods = (PhoneNumber.objects.filter(number_index__in=indexes, valid_from__lt=window.end)
               .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=window.start))
               .values_list("number_index", "valid_from", "valid_to"))
    for index, start, end in periods:
        numbers[index].append(Interval(max(start, window.start), min(end or window.end, window.end)))
    return Scope(request_id=req.pk, window=window,
                 numbers={k: tuple(sorted(v, key=lambda iv: iv.start)) for k, v in numbers.items()},
                 accounts=frozenset(t.account_id for t in targets if t.account_id),
                 categories=tuple(req.categories))


_ROW_FIELDS = ("id", "started_at", "answered_at", "duration", "billsec", "direction", "disposition",
               "src_enc", "dst_enc", "src_index", "dst_index", "account_id", "source_id", "unique_id", "call_id")


def _cdr_rows(scope: Scope) -> Iterator[Row]:
    """The scope's calls through traffic's CDR reader: live ones, and those whose month was dropped but
    which a hold kept (the hold table, under the master key). A number of a month whose key is gone
    fails the production rather than come out blank."""
    # One index range scan per (number, period, side) and per account: (src_index, started_at),
    # (dst_index, started_at) and (account, started_at) serve them directly.
    filters: list[Q] = []
    for index, intervals in scope.numbers.items():
        for iv in intervals:
            for side in ("src_index", "dst_index"):
                filters.append(Q(**{side: index}, started_at__gte=iv.start, started_at__lt=iv.end))
    for account_id in sorted(scope.accounts):
        filters.append(Q(account_id=account_id, started_at__gte=scope.window.start, started_at__lt=scope.window.end))
    calls = calls_matching(filters=filters, fields=_ROW_FIELDS, decrypt=CallDecryptor(shredded=CallDecryptor.RAISE))
    for (pk, started, answered, duration, billsec, direction, disposition, src_enc, dst_enc, src_index,
         dst_index, account_id, source_id, unique_id, call_id), read in calls:
        yield Row(cdr_id=pk, started_at=started, answered_at=answered, duration=duration, billsec=billsec,
                  direction=direction, disposition=disposition, src=read(src_enc), dst=read(dst_enc),
                  src_index=src_index, dst_index=dst_index, account_id=account_id,
                  call=call_key(source_id, unique_id, call_id))


def disclosure_scope_rows(*, actor, request: DisclosureRequest) -> tuple[Scope, list[Row]]:
    """The calls of the approved scope, sorted by time. Only for an approved request being produced."""
    purpose = request_purpose(request)
    require_purpose(actor=actor, purpose=purpose, action="disclosure.scope_rows", target_type="disclosure_request",
                    target_id=request.pk)
    if request.status != Status.PRODUCING:
        raise Http404
    scope = scope_of(request)
    rows = sorted(_cdr_rows(scope), key=lambda r: (r.started_at, r.cdr_id)) if "traffic_data" in scope.categories else []
    return scope, rows


def disclosure_subscribers(*, actor, request: DisclosureRequest, scope: Scope,
                           max_hits: int | None = None) -> tuple[int, list[dict]]:
    """User data (subscriber records) for the scope's accounts and the holders of its numbers: how many match, and
    the records by account id; with `max_hits` (the authority's cap, ETSI maxHits) only the first that many, and
    the name, e-mail and numbers of no other subscriber are even read (matching needs ids and periods only)."""
    require_purpose(actor=actor, purpose=request_purpose(request), action="disclosure.subscribers",
                    target_type="disclosure_request", target_id=request.pk)
    user_ids, held = set(scope.accounts), []
    for pk, user_id, index, start, end in (PhoneNumber.objects.filter(number_index__in=list(scope.numbers))
                                           .values_list("pk", "user_id", "number_index", "valid_from", "valid_to")):
        if scope.held_in_scope(index, start, end):
            user_ids.add(user_id)
            held.append(pk)
    matched = list(User.objects.filter(pk__in=user_ids).order_by("pk").values_list("pk", flat=True))
    periods: dict[int, list[dict]] = {}
    for pn in PhoneNumber.objects.filter(pk__in=held, user_id__in=matched[:max_hits]).order_by("pk"):
        periods.setdefault(pn.user_id, []).append({"number": pn.number, "valid_from": pn.valid_from.isoformat(),
                                                  "valid_to": pn.valid_to.isoformat() if pn.valid_to else None})
    return len(matched), [{"account_id": u.pk, "name": u.get_full_name() if hasattr(u, "get_full_name") else "",
                           "email": u.email, "numbers": periods.get(u.pk, [])}
                          for u in User.objects.filter(pk__in=matched[:max_hits]).order_by("pk")]


# --- staff lists -------------------------------------------------------------------------------------

def _officer(actor) -> None:
    require_purpose(actor=actor, purpose=Purpose.LEGAL_OBLIGATION, action="disclosure.read",
                    target_type="disclosure_request")


def disclosure_request_list(*, actor, open_only: bool = False) -> QuerySet[DisclosureRequest]:
    _officer(actor)
    qs = DisclosureRequest.objects.select_related("authority", "received_by").order_by("deadline", "pk")
    return qs.filter(status__in=OPEN_STATUSES) if open_only else qs


def disclosure_request_get(*, actor, pk: int) -> DisclosureRequest:
    _officer(actor)
    req = DisclosureRequest.objects.select_related("authority", "received_by", "verified_by", "checked_by").filter(pk=pk).first()
    if req is None:
        raise Http404
    return req


def disclosure_preservation_documents(*, actor, request: DisclosureRequest) -> QuerySet[DisclosureDocument]:
    """The documents of the preservation `request` was converted from (none for any other request), oldest first:
    the production order's file shows the whole history, the preservation order and its renewal's papers too."""
    require_purpose(actor=actor, purpose=Purpose.LEGAL_OBLIGATION, action="disclosure.documents",
                    target_type="disclosure_request", target_id=request.pk)
    return DisclosureDocument.objects.filter(request__converted_to=request).order_by("uploaded_at", "pk")


def authority_list(*, actor) -> QuerySet[Authority]:
    _officer(actor)
    return Authority.objects.all()


def disclosure_deadlines(*, actor, now: datetime | None = None) -> list[dict]:
    """Open requests by due time, with hours left (negative: overdue)."""
    moment = now or tz_now()
    rows = []
    for req in disclosure_request_list(actor=actor, open_only=True).exclude(status=Status.DELIVERED):
        hours = (req.deadline - moment).total_seconds() / 3600
        rows.append({"request": req, "hours_left": round(hours, 1), "overdue": hours < 0,
                     "soon": 0 <= hours <= settings.DISCLOSURE_ESCALATION_HOURS})
    return rows


def disclosure_preservations(*, actor) -> QuerySet[DisclosureRequest]:
    """Open preservation orders, the one ending first on top (with renewal and reminder state)."""
    return (disclosure_request_list(actor=actor, open_only=True).filter(legal_basis__in=PRESERVATION_BASES)
            .order_by("preserve_until", "pk"))


# --- customers: their own notices only ---------------------------------------------------------------

def notice_list_for_user(*, actor, purpose: Purpose | str = Purpose.SELF_SERVICE) -> QuerySet[Notice]:
    """A user's sent notices (never withheld ones: a secrecy order is itself secret; nor drafts, not yet sent)."""
    require_purpose(actor=actor, purpose=purpose, action="disclosure.notice_list", target_type="user",
                    target_id=actor.pk)
    return (Notice.objects.filter(user=actor, state=Notice.State.SENT).select_related("request__authority")
            .order_by("-sent_at"))


def disclosures_about_user(user) -> list[dict]:
    """For the data export: the disclosures `user` has been told of or is to be told of (a sent notice, a draft),
    nothing more. A claim without notice (Sv 126n and the like), one under a running secrecy order, or one about a
    number before the user held it (numbers are recycled; the notice follows the holding periods)
    must not surface through the export either.
    The authority's kind and the basis, dates and categories; never the target numbers of others."""
    reqs = disclosures_told_of(user).select_related("authority").order_by("delivered_at")
    return [{"request": r.pk, "authority": r.authority.name, "authority_kind": r.authority.kind,
             "legal_basis": r.get_legal_basis_display(), "categories": r.categories,
             "window_start": r.window_start.isoformat(), "window_end": r.window_end.isoformat(),
             "delivered_at": r.delivered_at.isoformat()} for r in reqs]


def disclosures_withheld_from_user(user) -> int:
    """For the export's audit entry: how many handed-over disclosures concern `user` (a target account, or a
    target number the user held in the request's window) that the export leaves out (a secrecy order, or no
    notice by decision). A number only: which ones stays with the legal officers."""
    held = (PhoneNumber.objects.filter(user=user, number_index=OuterRef("number_index"),
                                       valid_from__lt=OuterRef("request__window_end"))
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=OuterRef("request__window_start"))))
    concerned = set(DisclosureTarget.objects.filter(Q(account=user) | Q(Exists(held)))
                    .filter(request__in=DisclosureRequest.objects.filter(HANDED_OVER))
                    .values_list("request_id", flat=True))
    return len(concerned - set(disclosures_told_of(user).values_list("pk", flat=True)))


# --- transparency ------------------------------------------------------------------------------------

def half_year_bounds(year: int, half: int) -> tuple[datetime, datetime]:  # Amsterdam days: 1 July 00:30 is H2
    starts = (date(year, 1, 1), date(year, 7, 1), date(year + 1, 1, 1))
    return day_start(starts[half - 1]), day_start(starts[half])


def transparency_report(*, actor, year: int, half: int) -> dict:
    """Counts of requests received in the half-year. Small counts (0 < n < threshold) are suppressed,
    so that a single investigation cannot be recognised in the published figures, and so are the counts
    that would give one of them away by subtraction from a total the report shows (suppression.py).
    "Accounts affected" counts distinct customer accounts whose data was handed over (a full, partial or capped
    answer): per basis, and in all (an account named under two bases counts once there). An answer cut to the
    authority's maxHits is counted as capped, not as full."""
    _officer(actor)
    start, end = half_year_bounds(year, half)
    reqs = list(DisclosureRequest.objects.filter(received_at__gte=start, received_at__lt=end)
                .select_related("authority").prefetch_related("targets"))
    by_kind = {str(k.label): 0 for k in AuthorityKind}
    by_outcome = dict.fromkeys(_ANSWERS, 0)
    for r in reqs:
        by_kind[str(AuthorityKind(r.authority.kind).label)] += 1
        if r.outcome in by_outcome:
            by_outcome[r.outcome] += 1
    notices = Notice.objects.filter(request__in=reqs)
    answered = [(r.delivered_at or r.closed_at) - r.received_at for r in reqs
                if r.outcome in _ANSWERS and (r.delivered_at or r.closed_at)]
    med = median(answered).total_seconds() / 3600 if answered else None
    table, accounts = _by_basis(reqs)
    counts = {("basis", code, column): n for code, row in table.items() for column, n in row.items()}
    counts.update({("kind", k): v for k, v in by_kind.items()})
    counts.update({("outcome", k): v for k, v in by_outcome.items()})
    counts.update({
        ("total",): len(reqs),
        ("emergency",): sum(1 for r in reqs if r.emergency),
        ("preservation",): sum(1 for r in reqs if r.legal_basis in PRESERVATION_BASES),
        ("notices_sent",): notices.filter(state=Notice.State.SENT).count(),
        ("notices_withheld",): notices.filter(state=Notice.State.WITHHELD).count(),
        ("preservations_renewed",): sum(1 for r in reqs if r.renewed_at is not None),
        ("preservations_converted",): sum(1 for r in reqs if r.outcome == Outcome.CONVERTED),
        ("accounts_affected",): accounts,
    })
    text = suppressed(counts, _report_sums(table), settings.DISCLOSURE_REPORT_THRESHOLD)
    report = {name: text[(name,)] for name in _REPORT_MEASURES}
    report["by_basis"] = {str(LegalBasis(code).label): text[("basis", code, "received")] for code in table}
    report["by_authority_kind"] = {k: text[("kind", k)] for k in by_kind}
    report["by_outcome"] = {str(Outcome(k).label): text[("outcome", k)] for k in by_outcome}
    report["basis_table"] = [{"basis": code, "label": str(LegalBasis(code).label),
                              **{column: text[("basis", code, column)] for column in BASIS_COLUMNS}} for code in table]
    report.update({"period": f"{year}-H{half}", "median_hours_to_answer": round(med, 1) if med is not None else None,
                   "threshold": settings.DISCLOSURE_REPORT_THRESHOLD})
    return report


_REPORT_MEASURES = ("total", "emergency", "preservation", "preservations_renewed", "preservations_converted",
                    "notices_sent", "notices_withheld", "accounts_affected")
_OUTCOME_COLUMNS = ("full", "partial", "capped", "no_data", "rejected", "withdrawn", "preserved", "converted")
BASIS_COLUMNS = ("received", "emergency", *_OUTCOME_COLUMNS, "accounts")
_DISCLOSED = (Outcome.FULL, Outcome.PARTIAL, Outcome.CAPPED)  # data was handed over
# The answers the report counts by outcome (and times): capped is its own, never counted as full.
_ANSWERS = (Outcome.FULL, Outcome.PARTIAL, Outcome.CAPPED, Outcome.NO_DATA, Outcome.REJECTED)


def _report_sums(table: dict[str, dict[str, int]]) -> list:
    """The sums the report shows, each as (its counts, the margin): suppression.suppressed's groups. The
    accounts of the bases add up to all accounts affected only when no account was named under two bases;
    suppressed() leaves a group out when its counts do not add up."""
    codes = list(table)
    return [
        ([("basis", c, "received") for c in codes], ("total",)),
        ([("basis", c, "emergency") for c in codes], ("emergency",)),
        ([("basis", c, "received") for c in codes if c in PRESERVATION_BASES], ("preservation",)),
        ([("basis", c, "converted") for c in codes], ("preservations_converted",)),
        ([("basis", c, "accounts") for c in codes], ("accounts_affected",)),
        *(([("basis", c, o) for o in _OUTCOME_COLUMNS], ("basis", c, "received")) for c in codes),
        *(([("basis", c, o) for c in codes], ("outcome", o)) for o in _ANSWERS),
    ]


def _by_basis(reqs: list[DisclosureRequest]) -> tuple[dict[str, dict[str, int]], int]:
    """Per basis of the table (every basis, also those with no request): what came in, how it ended and how
    many distinct accounts had data handed over; and the distinct accounts over all bases."""
    table = {code: dict.fromkeys(BASIS_COLUMNS, 0) for code in LegalBasis.values}
    accounts: dict[str, set[int]] = {code: set() for code in LegalBasis.values}
    for r in reqs:
        row = table[r.legal_basis]
        row["received"] += 1
        row["emergency"] += int(r.emergency)
        if r.outcome in _OUTCOME_COLUMNS:
            row[r.outcome] += 1
        if r.outcome in _DISCLOSED:
            accounts[r.legal_basis] |= request_subject_ids(r)
    for code, ids in accounts.items():
        table[code]["accounts"] = len(ids)
    return table, len(set().union(*accounts.values()))


def request_subject_ids(req: DisclosureRequest) -> set[int]:
    """The customer accounts a request concerns: its target accounts, and whoever held a target number in its
    window (numbers are recycled: an earlier or later holder is not concerned). The notices to users and the
    report's accounts affected both count these."""
    targets = list(req.targets.all())
    users = {t.account_id for t in targets if t.account_id}
    indexes = [t.number_index for t in targets if t.number_index]
    if indexes:
        users |= set(PhoneNumber.objects.filter(number_index__in=indexes, valid_from__lt=req.window_end)
                     .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=req.window_start))
                     .values_list("user_id", flat=True))
    return users


def transparency_rows(report: dict) -> list[list[str]]:
    rows = [["period", "measure", "key", "count"]]
    for measure in _REPORT_MEASURES:
        rows.append([report["period"], measure, "", report[measure]])
    for row in report["basis_table"]:
        for column in BASIS_COLUMNS:
            rows.append([report["period"], f"basis:{row['basis']}", column, row[column]])
    for measure in ("by_basis", "by_authority_kind", "by_outcome"):
        for key, value in report[measure].items():
            rows.append([report["period"], measure, key, value])
    rows.append([report["period"], "median_hours_to_answer", "", str(report["median_hours_to_answer"] or "")])
    return rows
