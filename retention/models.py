"""Retention: versioned policies per data category, legal holds, purge runs and receipts, and the
hold table that keeps the CDRs a month drop must not take with it.

Nothing here stores a phone number in plain text: holds name numbers by blind index, receipts hold
counts, and `HeldCdr` numbers are re-encrypted under the master key (not a month key), so they stay
readable after their month's key is destroyed and go when the hold or the open invoice ends.
"""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    CDR_BILLED = "cdr_billed", _("CDRs of billed calls")
    CDR_UNBILLED = "cdr_unbilled", _("CDRs of unbilled calls (failed, free)")
    CDR_TECHNICAL = "cdr_technical", _("Technical identifiers (IP, user agent, SIP call-id)")
    INVOICE = "invoice", _("Invoices and aggregated invoice lines")
    CLOSED_ACCOUNT = "closed_account", _("Closed account's user data")
    DISCLOSURE_PACKAGE = "disclosure_package", _("Disclosure packages (copies delivered)")
    DSR_EXPORT = "dsr_export", _("Data-subject export files")
    AUDIT_LOG = "audit_log", _("Audit log (pseudonymous)")


# What the purge can do to each category at the end of its period. A closed account's user row
# must stay (its invoices name it), so it can only be anonymised; everything else is deleted (an
# "anonymised" CDR month would need a rewrite of every row, which a month drop exists to avoid). A
# policy may only name an action the purge carries out, so the policy shown is the policy applied.
SUPPORTED_ACTIONS: dict[str, tuple[str, ...]] = {category: ("delete",) for category in Category.values}
SUPPORTED_ACTIONS[Category.CLOSED_ACCOUNT] = ("anonymise",)

# The change reason of the default policies (version 1, valid from 1 January 2000: in force from the start).
SEEDED_REASON = "DESIGN.md defaults"
# The events and legal bases the default policies were seeded with (migrations/0002_seed_default_policies.py),
# marked for translation: a policy that still states one is shown in the reader's language. Both are free text
# the DPO may rewrite; what the DPO wrote is shown as written, in the language it was written in. (Bases that
# read the same in Dutch, "Tw art. 11.5(2)", "AWR art. 52", need no entry.)
SEEDED_TEXTS = frozenset((
    gettext_noop("invoice paid and undisputed and its dispute window (6 months after the invoice date) passed"),
    gettext_noop("call start (failed, free or never invoiced calls)"),
    gettext_noop("call start (IP, user agent, SIP call-id)"),
    gettext_noop("invoice date"),
    gettext_noop("final invoice settled, except what invoices must keep"),
    gettext_noop("delivery of the package"),
    gettext_noop("export file ready"),
    gettext_noop("entry written (pseudonymous)"),
    gettext_noop("Tw art. 11.5(1); security"),
    gettext_noop("GDPR art. 5(1)(e)"),
    gettext_noop("accountability (GDPR art. 5(2))"),
    gettext_noop("minimisation (GDPR art. 5(1)(c))"),
    gettext_noop("GDPR art. 5(2)"),
))


def period_words(months: int, days: int = 0) -> str:
    """A retention period as people write it, in the active language ("7 years", "1 jaar 2 maanden", "0 days")."""
    parts = []
    if months:
        years, rest = divmod(months, 12)
        if years:
            parts.append(ngettext("%(n)d year", "%(n)d years", years) % {"n": years})
        if rest:
            parts.append(ngettext("%(n)d month", "%(n)d months", rest) % {"n": rest})
    if days or not parts:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    return " ".join(parts)


def seeded_text_shown(text: str) -> str:
    """`text` in the active language if the defaults were seeded with it (SEEDED_TEXTS), else as written."""
    return gettext(text) if text in SEEDED_TEXTS else text


class RetentionPolicy(models.Model):
    """One version of the policy of one category. A change adds a version (valid_from = the change);
    old versions are never edited, so the policy in force at any past moment can be shown."""

    class Action(models.TextChoices):
        DELETE = "delete", _("delete")
        ANONYMISE = "anonymise", _("anonymise")

    category = models.CharField(_("Category"), max_length=32, choices=Category.choices)
    version = models.PositiveIntegerField(_("Version"))
    trigger = models.CharField(_("trigger"), max_length=200, help_text=_("The event the period counts from"))
    period_months = models.PositiveIntegerField(_("period months"), default=0)
    period_days = models.PositiveIntegerField(_("period days"), default=0)
    action = models.CharField(_("Action"), max_length=10, choices=Action.choices, default=Action.DELETE)
    legal_basis = models.CharField(_("Legal basis"), max_length=200)
    valid_from = models.DateTimeField(_("valid from"), default=now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("Changed by"))
    change_reason = models.CharField(_("change reason"), max_length=300, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("retention policy"), _("Retention policies")
        constraints = [models.UniqueConstraint(fields=["category", "version"], name="retpolicy_category_version_uniq")]
        indexes = [models.Index(fields=["category", "-valid_from"], name="retpolicy_category_from_idx")]
        ordering = ["category", "-version"]

    def __str__(self) -> str:
        return f"{self.get_category_display()} v{self.version}"

    @property
    def action_choices(self) -> list[tuple[str, str]]:
        """The actions a new version of this policy may name (the purge's, see SUPPORTED_ACTIONS)."""
        return [(action, self.Action(action).label) for action in SUPPORTED_ACTIONS[self.category]]

    @property
    def seeded(self) -> bool:
        """The default version 1 that migration 0002 wrote, "valid from 1 January 2000": in force from the start."""
        return self.version == 1 and self.change_reason == SEEDED_REASON

    @property
    def change_reason_label(self) -> str:
        """The reason as people read it: the seeded version's stored reason names a design file, so it is shown as
        the defaults at installation, in the active language (the row itself is history and stays as it was)."""
        return gettext("Defaults at installation") if self.seeded else self.change_reason

    @property
    def trigger_label(self) -> str:
        return seeded_text_shown(self.trigger)

    @property
    def legal_basis_label(self) -> str:
        return seeded_text_shown(self.legal_basis)

    # Whether the stored trigger and legal basis are the English the defaults were seeded with: the edit form shows
    # the stored text, marked lang="en" then (a DPO's own text may be in any language).
    @property
    def trigger_seeded(self) -> bool:
        return self.trigger in SEEDED_TEXTS

    @property
    def legal_basis_seeded(self) -> bool:
        return self.legal_basis in SEEDED_TEXTS

    @property
    def period_label(self) -> str:
        """The period as people write it, in the active language ("7 years", "3 maanden", "0 days")."""
        return period_words(self.period_months, self.period_days)


class LegalHold(models.Model):
    """Data that must stay whatever its policy says. Scope: accounts and/or numbers (blind indexes,
    never plain numbers), a window of call times, data categories. Active from `starts_at` until
    released or `expires_at`; after that its data falls back under normal retention at the next run."""

    class Reason(models.TextChoices):
        DISCLOSURE_REQUEST = "disclosure_request", _("disclosure request")
        PRESERVATION_ORDER = "preservation_order", _("preservation order")
        DISPUTE = "dispute", _("dispute")
        UNPAID_INVOICE = "unpaid_invoice", _("unpaid invoice")

    class Release(models.TextChoices):
        RELEASED = "released", _("released")
        EXPIRED = "expired", _("expired")
        CONVERTED = "converted", _("converted into a production order")

    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    reference = models.CharField(_("Reference"), max_length=100, help_text=_('e.g. "disclosure:12"; no personal data'))
    account_ids = models.JSONField(_("Account ids"), default=list, blank=True)
    number_indexes = models.JSONField(_("number indexes"), default=list, blank=True)
    window_start = models.DateTimeField(_("window start"), null=True, blank=True)
    window_end = models.DateTimeField(_("window end"), null=True, blank=True)  # exclusive
    categories = models.JSONField(_("Categories"), default=list)
    starts_at = models.DateTimeField(_("starts at"), default=now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("placed by"))
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    # Why it ended: released by its owner, expired (the job records the end of a hold whose order ran
    # out; the purge already ignores it from expires_at on), or converted into another order's hold.
    release_reason = models.CharField(max_length=10, choices=Release.choices, blank=True)
    # A preservation order renewed once under a new order: when, and that order's reference.
    renewed_at = models.DateTimeField(null=True, blank=True)
    renewal_reference = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name, verbose_name_plural = _("Legal hold"), _("Legal holds")
        indexes = [models.Index(fields=["released_at", "expires_at"], name="legalhold_active_idx")]
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"hold {self.pk} ({self.reference})"

    @property
    def category_labels(self) -> list[str]:
        """The held data categories by name, in the active language."""
        return [str(Category(c).label) if c in Category.values else c for c in self.categories]

    @property
    def disclosure_request_id(self) -> int | None:
        """The disclosure request that placed the hold: its reference is "disclosure:<id>", a prefix that only
        disclosures may use (retention.services.OWNED_REFERENCE_PREFIXES)."""
        prefix, _colon, rest = self.reference.partition(":")
        return int(rest) if prefix == "disclosure" and rest.isdigit() else None

    def is_active(self, at: datetime | None = None) -> bool:
        at = at or now()
        if self.starts_at > at or (self.released_at is not None and self.released_at <= at):
            return False
        return self.expires_at is None or self.expires_at > at


class PurgeRun(models.Model):
    """One run of the purge, with the steps it has done (so a run that died can be seen, and the
    next run, which re-derives what is left from the database, shows it finished the job). A run
    whose worker died is marked failed when its lease runs out (retention.purge.runs); its receipts,
    written as it went, are what it did."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    started_at = models.DateTimeField(_("started at"), default=now)
    # Renewed at every step: a dry run takes no lease, so a dry run silent for a lease is dead.
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    as_of = models.DateTimeField(_("as of"))  # the "now" the run computed its cutoffs from
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("Status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    # {"step": "cdr_unbilled", "months": {"2026-01": ["copied", "detached", "key_destroyed", "reclaimed"]}}
    state = models.JSONField(_("state"), default=dict, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)  # exception class and step; never data

    class Meta:
        verbose_name, verbose_name_plural = _("purge run"), _("purge runs")
        ordering = ["-started_at"]


# What the DPO reads for a receipt's category: the purge's steps beside the policy categories
# (a month dropped whole, its key destroyed, the hold table, registered purgers' own categories).
RECEIPT_LABELS: dict[str, str] = {
    **dict(Category.choices),
    "cdr_month_drop": _("Whole months of calls (detached, key destroyed: unreadable)"),
    "cdr_month_reclaim": _("Files of unreadable months given back (detached tables dropped)"),
    "month_key": _("Encryption keys of purged months"),
    "held_cdr": _("Kept copies of calls (legal hold or open invoice ended)"),
    "held_cdr_technical": _("Technical identifiers of kept copies of calls (their legal hold ended)"),
    "login_attempts": _("Failed sign-in records"),
    "cdr_uploads": _("Stored CDR files of failed imports"),
    "cdr_call_ids": _("Call ids naming a host (IP), replaced by their hash"),
    "call_export": _("Call export files"),
}


class PurgedMonth(models.Model):
    """A month of calls the purge made unreadable: when its data key was destroyed (`shredded_at`: from
    then on no copy of its numbers can be read, backups included) and, for a month detached whole, when
    its detached tables were dropped and their files given back (`reclaimed_at`; empty until then). A
    month emptied by batches (partial months; SQLite) lost its rows before its key: nothing to reclaim."""

    class Method(models.TextChoices):
        DETACHED = "detached", _("partition detached")
        BATCHES = "batches", _("rows deleted in batches")

    month = models.DateField(primary_key=True)  # first day of the month, UTC
    method = models.CharField(max_length=10, choices=Method.choices)
    shredded_at = models.DateTimeField()
    reclaimed_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(PurgeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")


class PurgeReceipt(models.Model):
    """What one run removed in one category: counts, cutoff, duration. Never the data."""

    run = models.ForeignKey(PurgeRun, null=True, on_delete=models.SET_NULL, related_name="receipts",
                            verbose_name=_("purge run"))
    category = models.CharField(_("Category"), max_length=32)
    deleted = models.PositiveBigIntegerField(_("Deleted"), default=0)
    anonymised = models.PositiveBigIntegerField(_("Anonymised"), default=0)
    kept = models.PositiveBigIntegerField(_("kept"), default=0)  # held or still needed rows seen by the step
    cutoff = models.DateTimeField(_("Cutoff"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    dry_run = models.BooleanField(_("dry run"), default=False)
    details = models.JSONField(_("Details"), default=dict, blank=True)  # e.g. months dropped; counts only
    created_at = models.DateTimeField(_("created at"), default=now)

    class Meta:
        verbose_name, verbose_name_plural = _("purge receipt"), _("Purge receipts")
        ordering = ["-created_at", "category"]
        indexes = [models.Index(fields=["-created_at"], name="purgereceipt_created_idx")]

    @property
    def month_times(self) -> list[dict]:
        """A month step's months with when each became unreadable and when its files went (datetimes;
        None where not, or not yet): what the DPO's receipts table shows under the category."""
        months = (self.details or {}).get("months") or []
        times = []
        for entry in months:
            if not isinstance(entry, dict) or not ({"shredded_at", "reclaimed_at"} & entry.keys()):
                continue
            times.append({"month": entry.get("month", ""),
                          **{k: datetime.fromisoformat(entry[k]) if entry.get(k) else None
                             for k in ("shredded_at", "reclaimed_at")}})
        return times

    @property
    def category_label(self) -> str:
        """A readable name for the category (never the internal key, unless a new step has none yet)."""
        label = RECEIPT_LABELS.get(self.category)
        return str(label) if label else self.category.replace("_", " ").capitalize()


class PurgeLock(models.Model):
    """A single row that makes two purges never run at once, on PostgreSQL and SQLite alike: a run
    takes it with one conditional UPDATE (atomic on both) and renews the lease with every batch it
    commits; a run whose worker died frees it PURGE_LEASE_SECONDS after its last renewal."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    holder = models.CharField(max_length=64, blank=True)
    renewed_at = models.DateTimeField(null=True, blank=True)  # None: free


class HeldCdr(models.Model):
    """A CDR copied out of a month partition before the partition was dropped, because a legal hold
    or an open/disputed invoice still needs it. Same columns as traffic_cdr (the CDR's own id is
    `cdr_id`); number fields re-encrypted under the master key with AAD "heldcdr:<cdr_id>"."""

    cdr_id = models.BigIntegerField(_("CDR id"))
    started_at = models.DateTimeField(_("started at"))
    source_id = models.BigIntegerField()
    unique_id = models.CharField(max_length=150)
    fingerprint = models.CharField(max_length=32)
    import_batch_id = models.BigIntegerField(null=True, blank=True)
    account_id = models.BigIntegerField(_("account id"), null=True, blank=True)
    contractor_id = models.BigIntegerField(null=True, blank=True)
    direction = models.CharField(max_length=8)
    disposition = models.CharField(max_length=10)
    answered_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(default=0)
    billsec = models.PositiveIntegerField(default=0)
    src_enc = models.BinaryField()
    dst_enc = models.BinaryField()
    src_index = models.CharField(max_length=64)
    dst_index = models.CharField(max_length=64)
    caller_name_enc = models.BinaryField(null=True)
    account_code = models.CharField(max_length=80, blank=True)
    flags = models.CharField(max_length=200, blank=True)
    rating = models.CharField(max_length=8)
    zone = models.CharField(max_length=60, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    invoice_id = models.BigIntegerField(_("invoice id"), null=True, blank=True)
    restricted_at = models.DateTimeField(null=True, blank=True)
    # The call's technical identifiers, when a hold also covers them (re-encrypted as well).
    technical_enc = models.BinaryField(null=True)
    held_at = models.DateTimeField(_("held at"), default=now)

    class Meta:
        verbose_name, verbose_name_plural = _("held CDR"), _("held CDRs")
        constraints = [
            # Copying is idempotent: a rerun after a crash inserts nothing twice.
            models.UniqueConstraint(fields=["cdr_id", "started_at"], name="heldcdr_cdr_uniq"),
        ]
        indexes = [
            models.Index(fields=["src_index", "started_at"], name="heldcdr_src_time_idx"),
            models.Index(fields=["dst_index", "started_at"], name="heldcdr_dst_time_idx"),
            models.Index(fields=["account_id", "started_at"], name="heldcdr_account_time_idx"),
            # A contractor admin's call pages read its Users' held calls too (traffic.selectors.cdr_reader).
            models.Index(fields=["contractor_id", "started_at"], name="heldcdr_contractor_time_idx"),
            models.Index(fields=["invoice_id"], name="heldcdr_invoice_idx"),
        ]
