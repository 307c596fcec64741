"""Registries that let lower layers call into higher apps without importing them (DESIGN.md).

Each app registers in its `AppConfig.ready()`:
- a personal-data section: what it holds about a person, how to export it and how to erase it;
- keepers (retention): what must stay for a person and why, consulted before erasure;
- a demo seeder for `seed_demo`, run in app order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class Kept:
    """Something erasure may not delete: category, the exception that keeps it, until when."""

    category: str
    reason: str
    legal_basis: str
    until: date | None = None
    count: int = 0
    # Kept for a criminal investigation (a disclosure request, a preservation order): the data stays
    # and is restricted, but telling the person would tip them off (Sv 126n ff., UAVG art. 41), so
    # the erasure's answer and the person's own pages never name it.
    withheld_from_subject: bool = False
    # Which calls a legal hold keeps: a filter on the fields calls share (account_id, src_index, dst_index,
    # started_at), the hold's accounts or numbers in its window. None: every call of the person in its category.
    rows: Any = field(default=None, compare=False)
    # What the person reads, in their language (lazy strings): `category` and `reason` are the record's keys
    # and English text (the DPO's record and the audit name them so); empty: shown as they are.
    category_label: Any = field(default="", compare=False)
    reason_shown: Any = field(default="", compare=False)


@dataclass(frozen=True)
class Section:
    name: str  # "calls", "invoices", "profile", ...
    order: int
    purpose: str  # purpose under which the data is held (for the export's explanation)
    legal_basis: str
    retention: str
    # exporter(user) -> iterable of dict rows (JSON-serialisable; streamed, may be large)
    exporter: Callable[[Any], Iterable[dict]]
    # eraser(user, kept: list[Kept]) -> dict of counts; must leave what `kept` names, restricted
    eraser: Callable[[Any, list[Kept]], dict] | None = None
    description: str = ""
    # withheld(user) -> how many items about the person the exporter leaves out on purpose (a disclosure under a
    # secrecy order): the export's audit entry records the number, so the omission is logged; never which ones.
    withheld: Callable[[Any], int] | None = None
    # what the processing register's page calls it, marked for translation (gettext_lazy); `name` if empty
    label: str = ""
    # recipients(user) -> the recipients of the person's data the person may know of (GDPR art. 19): dicts with
    # key (unique, stable), recipient (a body's name), recipient_kind and disclosed_at (an aware datetime); never
    # one under a running secrecy order or a decision not to tell the person (UAVG art. 41)
    recipients: Callable[[Any], list[dict]] | None = None
    # recipients_pending(user) -> recipients the person is not yet told of only because a notice owed to them is
    # not sent yet (a secrecy order that ended): same dicts, for the DPO's art. 19 list only, never the person's
    recipients_pending: Callable[[Any], list[dict]] | None = None


@dataclass
class _Registry:
    sections: dict[str, Section] = field(default_factory=dict)
    keepers: list[Callable[[Any], list[Kept]]] = field(default_factory=list)
    seeders: list[tuple[int, str, Callable[..., None]]] = field(default_factory=list)


_registry = _Registry()


def register_section(section: Section) -> None:
    _registry.sections[section.name] = section


def sections() -> list[Section]:
    return sorted(_registry.sections.values(), key=lambda s: s.order)


def recipients_of(user: Any, *, pending: bool = False) -> list[dict]:
    """Every section's recipients of `user`'s data (GDPR art. 19), oldest disclosure first; with `pending`, those
    waiting for the person's notice instead (Section.recipients_pending)."""
    found = [r for section in sections() for get in [section.recipients_pending if pending else section.recipients]
             if get for r in get(user)]
    return sorted(found, key=lambda r: (r["disclosed_at"], r["key"]))


def register_keeper(keeper: Callable[[Any], list[Kept]]) -> None:
    if keeper not in _registry.keepers:
        _registry.keepers.append(keeper)


def kept_for(user: Any) -> list[Kept]:
    kept: list[Kept] = []
    for keeper in _registry.keepers:
        kept.extend(keeper(user))
    return kept


def register_demo_seeder(order: int, name: str, seeder: Callable[..., None]) -> None:
    """seeder(stdout) creates demo data idempotently and prints what a newcomer needs to know."""
    if all(existing != name for _, existing, _ in _registry.seeders):
        _registry.seeders.append((order, name, seeder))


def demo_seeders() -> list[tuple[int, str, Callable[..., None]]]:
    return sorted(_registry.seeders, key=lambda s: s[0])


# --- purgers (retention) -----------------------------------------------------------------------------
# A higher app that keeps files or rows with their own retention (DSR export files, disclosure
# packages, closed accounts) registers purger(*, now, dry_run) -> {"deleted": n, ...}; the daily
# purge in `retention` calls each one and writes a receipt for its category.
_purgers: dict[str, Callable[..., dict]] = {}


def register_purger(category: str, purger: Callable[..., dict]) -> None:
    _purgers[category] = purger


def purgers() -> dict[str, Callable[..., dict]]:
    return dict(_purgers)


# --- key rotators (rotate_keys) ---------------------------------------------------------------------
# `rotate_keys` re-encrypts every EncryptedTextField itself. Anything else encrypted under the master
# keys (e.g. traffic's wrapped month keys) registers rotator(*, batch_size, dry_run) -> {"scanned": n,
# "rotated": m} here, and the command runs it after the fields. Counts only, never values. A rotator walks
# its table inside `voipxs.privacy.rotation.rotation_recorded` (as `rotate_bound` does), so that the walk
# leaves its audit entry under the purpose SECURITY.
_rotators: dict[str, Callable[..., dict]] = {}


def register_rotator(name: str, rotator: Callable[..., dict]) -> None:
    _rotators[name] = rotator


def rotators() -> dict[str, Callable[..., dict]]:
    return dict(_rotators)


# --- retention policies for the processing register (GDPR art. 30) -----------------------------------
# `voipxs.privacy.register` lists the retention policies in force next to the purposes. The app that keeps them
# (retention) registers source() -> iterable of dicts {category, label, period, trigger, action,
# legal_basis}; the kernel never imports it.
_retention_sources: list[Callable[[], Iterable[dict]]] = []


def register_retention_source(source: Callable[[], Iterable[dict]]) -> None:
    if source not in _retention_sources:
        _retention_sources.append(source)


def retention_policies() -> list[dict]:
    return [row for source in _retention_sources for row in source()]
