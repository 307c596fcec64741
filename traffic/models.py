"""Call data. CDRs are large and append-only; on PostgreSQL `traffic_cdr` and `traffic_cdrtechnical`
are partitioned by month on started_at (migration 0002), with primary key (id, started_at) and no
DEFAULT partition: `traffic.partitions` creates each month before rows arrive.

Numbers in CDRs are encrypted under the month's data key (`MonthKey`), itself wrapped by the master key: destroying
it shreds that month everywhere, backups included. Blind indexes (BLIND_INDEX_KEY, domain "phone") find them.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from voipxs.privacy.fields import BlindIndexField, EncryptedTextField
from .tariff_rules import validate_tariff_prefix, validate_zone_text


class Source(models.Model):
    """A switch that sends CDR files. Its format and time zone are declared, never guessed."""

    class Format(models.TextChoices):
        ASTERISK_CSV = "asterisk-csv", "Asterisk cdr_csv (Master.csv)"
        ASTERISK_CUSTOM = "asterisk-custom", "Asterisk cdr_custom"
        FREESWITCH_CSV = "freeswitch-csv", "FreeSWITCH mod_cdr_csv"
        FREESWITCH_JSON = "freeswitch-json", "FreeSWITCH mod_json_cdr"
        FREESWITCH_XML = "freeswitch-xml", "FreeSWITCH mod_xml_cdr"
        KAMAILIO_ACC = "kamailio-acc", "Kamailio acc dialog CDRs (cdr_enable)"

    name = models.SlugField(_("name"), max_length=60, unique=True)
    format = models.CharField(_("Format"), max_length=20, choices=Format.choices)
    timezone = models.CharField(_("Time zone"), max_length=64, default="Europe/Amsterdam")
    default_country = models.CharField(_("Default country"), max_length=2, default="NL")
    # The carrier or trunk this switch hands traffic to, for the interconnection report.
    carrier = models.CharField(_("Carrier"), max_length=100, blank=True)
    # The switch's own layout, exactly as configured there: a cdr_custom.conf mapping line
    # (`Master.csv => ${CSV_QUOTE(${CDR(clid)})},...`), a mod_cdr_csv template string or the name of
    # a stock one ("example", "sql", ...). Empty: the format's default layout (traffic.importers.layouts).
    columns = models.TextField(_("columns"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=now)

    class Meta:
        verbose_name, verbose_name_plural = _("Source"), _("Sources")

    def __str__(self) -> str:
        return self.name


class MonthKey(models.Model):
    """The data key of one calendar month of CDR numbers, wrapped by the master key.

    `wrapped_key` is set to NULL when the month is purged (crypto-shredding); `destroyed_at` says when.
    """

    month = models.DateField(primary_key=True)  # first day of the month, UTC
    wrapped_key = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=now)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")


class CdrImport(models.Model):
    """One imported file: what came in, what landed, what was refused and why (never the data)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="imports", verbose_name=_("Source"))
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, db_index=True)
    status = models.CharField(_("Status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                    verbose_name=_("imported by"))
    created_at = models.DateTimeField(_("created at"), default=now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    imported = models.PositiveIntegerField(_("imported rows"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicate rows"), default=0)
    conflicts = models.PositiveIntegerField(_("conflicting rows"), default=0)
    flagged = models.PositiveIntegerField(_("flagged rows"), default=0)
    # {"rejected": [{"line": n, "reason": "..."}], "conflicts": [{"line": n, "unique_id": "..."}]}
    report = models.JSONField(_("report"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)  # whole-file refusal reason (no file content)
    # The lease of a running import: set when it starts and renewed in the transaction of every batch it
    # commits (and while it waits for its source's lock). A "running" import whose heartbeat is older
    # than CDR_IMPORT_LEASE_SECONDS has lost its worker (OOM, kill -9, deploy) and is reaped.
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True)
    # A re-run is a new import of the same stored file: each import's counts say what that run did
    # (rows the earlier attempt landed are this run's duplicates), so neither report is rewritten.
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns",
                                 verbose_name=_("Re-run of"))

    class Meta:
        verbose_name, verbose_name_plural = _("CDR import"), _("CDR imports")
        indexes = [models.Index(fields=["source", "-created_at"], name="cdrimport_source_time_idx")]

    @property
    def upload_name(self) -> str:
        """The stored upload's file name under PRIVATE_FILES_DIR/imports, while this import holds it."""
        return str((self.report or {}).get("upload", ""))

    @property
    def can_rerun(self) -> bool:
        """Failed, and it still holds its stored upload (services.cdr_import_rerun checks the file)."""
        return self.status == self.Status.FAILED and bool(self.upload_name)


class Cdr(models.Model):
    """One call's billing fields. Technical identifiers live in CdrTechnical (shorter retention)."""

    class Direction(models.TextChoices):
        IN = "in", _("incoming")
        OUT = "out", _("outgoing")
        INTERNAL = "internal", _("internal")

    class Disposition(models.TextChoices):
        ANSWERED = "answered", _("answered")
        NO_ANSWER = "no_answer", _("no answer")
        BUSY = "busy", _("busy")
        FAILED = "failed", _("failed")
        CONGESTION = "congestion", _("congestion")

    class Rating(models.TextChoices):
        RATED = "rated"
        UNRATED = "unrated"  # no tariff matched: flagged, never dropped
        FREE = "free"  # not billable (unanswered, internal)
        PENDING = "pending"

    # On PostgreSQL the real primary key is (id, started_at); ids come from one sequence, so `id`
    # alone is still unique and Django may treat it as the primary key.
    id = models.BigAutoField(_("id"), primary_key=True)
    started_at = models.DateTimeField(_("started at"))
    # No database FK (like the other references below): a deferred FK check per row doubled the cost
    # of COPY (measured: 6.4 s against 3.4 s for 200,000 rows). Sources are never deleted, and
    # PROTECT still guards them in the ORM; the importer only writes the id of the source it holds.
    # cdr_source_uid_idx covers it
    source = models.ForeignKey(Source, on_delete=models.PROTECT, db_index=False, db_constraint=False, related_name="+",
                               verbose_name=_("Source"))
    unique_id = models.CharField(_("unique id"), max_length=150)
    # A record's identity is its leg (Asterisk 12+ writes one CDR per pair of parties, all with party
    # A's uniqueid): "seq:N" (the CDR's sequence), "ch:<hash>" (a hash of the destination channel, whose
    # name may hold a number) or "" (formats with one id per leg, and rows stored before legs).
    # db_default: raw INSERTs (bench) may omit it
    leg = models.CharField(_("leg"), max_length=40, blank=True, default="", db_default="")
    # The call this leg belongs to (Asterisk linkedid, FreeSWITCH A-leg uuid); "" = unique_id itself.
    call_id = models.CharField(_("Call id"), max_length=150, blank=True, default="", db_default="")
    fingerprint = models.CharField(_("fingerprint"), max_length=32)
    import_batch = models.ForeignKey(CdrImport, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+",
                                     verbose_name=_("import"))
    # The account whose number took part (holder at started_at), and its contractor (denormalised so that a contractor's
    # traffic is one index range). No database FK: CDRs outlive nothing by cascade; retention decides when they go.
    account = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    contractor = models.ForeignKey("accounts.Contractor", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+")
    direction = models.CharField(_("Direction"), max_length=8, choices=Direction.choices)
    disposition = models.CharField(_("disposition"), max_length=10, choices=Disposition.choices)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (seconds)"), default=0)
    billsec = models.PositiveIntegerField(_("Billed seconds"), default=0)
    # Numbers in E.164 (or the extension as written), encrypted under the month key; blind indexes for lookups.
    src_enc = models.BinaryField()
    dst_enc = models.BinaryField()
    src_index = models.CharField(max_length=64)
    dst_index = models.CharField(max_length=64)
    caller_name_enc = models.BinaryField(null=True)  # untrusted text, encrypted
    account_code = models.CharField(_("account code"), max_length=80, blank=True)
    flags = models.CharField(_("flags"), max_length=200, blank=True)  # comma-separated importers.base FLAG_* values
    # Rating: the price is fixed here when rated and never recomputed.
    rating = models.CharField(_("rating"), max_length=8, choices=Rating.choices, default=Rating.PENDING)
    zone = models.CharField(_("Zone"), max_length=60, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=5, null=True, blank=True)
    invoice = models.ForeignKey("traffic.Invoice", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+",
                                verbose_name=_("Invoice"))
    restricted_at = models.DateTimeField(_("restricted at"), null=True, blank=True)  # GDPR art. 18 restriction

    class Meta:
        verbose_name, verbose_name_plural = _("CDR"), _("CDRs")
        indexes = [
            # Call history: one account, newest first, keyset pagination on (started_at, id).
            models.Index(fields=["account", "-started_at", "-id"], name="cdr_account_time_idx"),
            models.Index(fields=["contractor", "-started_at", "-id"], name="cdr_contractor_time_idx"),
            # Disclosures and "calls with this number": blind index, then time.
            models.Index(fields=["src_index", "started_at"], name="cdr_src_time_idx"),
            models.Index(fields=["dst_index", "started_at"], name="cdr_dst_time_idx"),
            models.Index(fields=["invoice"], name="cdr_invoice_idx"),
            # The legs of one call (call list, itemised bill, disclosure package).
            models.Index(fields=["source", "call_id"], name="cdr_source_call_idx", condition=~models.Q(call_id="")),
            # The hourly re-rating reads only calls still waiting for a price; ingest rates as it
            # imports, so this index holds the few without a tariff, not the table.
            models.Index(fields=["id"], name="cdr_rating_todo_idx",
                         condition=models.Q(rating__in=["pending", "unrated"], invoice__isnull=True)),
        ]
        constraints = [
            # Dedupe key (source, unique id, leg); a partitioned table's unique keys must hold started_at,
            # and the (source, unique_id) prefix also serves the importer's lookups.
            models.UniqueConstraint(fields=["source", "unique_id", "leg", "started_at"], name="cdr_source_uid_leg_start_uniq"),
        ]


class CdrTechnical(models.Model):
    """Technical identifiers of a call (channel names, SIP call-id, IP, user agent), encrypted under
    the month key as one JSON blob; kept 30 days, while the call's billing fields stay."""

    id = models.BigAutoField(primary_key=True)
    cdr_id = models.BigIntegerField()
    started_at = models.DateTimeField()
    payload_enc = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["cdr_id"], name="cdrtech_cdr_idx"), models.Index(fields=["started_at"], name="cdrtech_time_idx")]


class Tariff(models.Model):
    """Price per destination prefix; the longest matching prefix wins."""

    # Labels as the staff tariff page names the same fields (traffic/views/tariffs.py), for the admin's forms.
    prefix = models.CharField(pgettext_lazy("tariffs", "Prefix"), max_length=20, validators=[validate_tariff_prefix],
                              help_text=_("E.164 digits without '+', e.g. 316 or 3120"))
    zone = models.CharField(pgettext_lazy("tariffs", "Description (zone)"), max_length=60, validators=[validate_zone_text])
    zone_nl = models.CharField(_("Description in Dutch"), max_length=60, blank=True, validators=[validate_zone_text])
    price_per_minute = models.DecimalField(_("price per minute"), max_digits=10, decimal_places=5)
    setup_fee = models.DecimalField(pgettext_lazy("tariffs", "Set-up fee"), max_digits=10, decimal_places=5, default=0)
    increment_first = models.PositiveSmallIntegerField(_("First increment (s)"), default=60)  # e.g. 60/60 or 1/1
    increment_next = models.PositiveSmallIntegerField(_("Next increments (s)"), default=60)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    valid_from = models.DateField(pgettext_lazy("tariffs", "Valid from"))
    valid_to = models.DateField(pgettext_lazy("tariffs", "Last day"), null=True, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("tariff"), _("tariffs")
        indexes = [models.Index(fields=["prefix", "valid_from"], name="tariff_prefix_idx"),  # zone_names.py's:
                   models.Index(fields=["zone"], condition=~models.Q(zone_nl=""), name="tariff_zone_nl_idx")]
        constraints = [
            # valid_to is the inclusive last day: a tariff ended the day it starts still holds for that day.
            models.CheckConstraint(condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                                   name="tariff_validity_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.zone}"


class Invoice(models.Model):
    """A month's invoice for one account. Its lines are aggregates without called numbers, so it
    can be kept 7 years while its CDRs go once it is settled and past `calls_kept_until`."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PAID = "paid", _("paid")
        DISPUTED = "disputed", _("disputed")
        VOID = "void", _("void")

    number = models.CharField(max_length=32, unique=True)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="invoices")
    contractor = models.ForeignKey("accounts.Contractor", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    period = models.DateField()  # first day of the billed month
    issued_at = models.DateTimeField(default=now)
    due_date = models.DateField()
    dispute_window_ends = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    paid_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    # When it last became settled (paid, a dispute rejected on a paid invoice, or void): retention counts a closed
    # account's period from here, so it never starts before the real end.
    settled_at = models.DateTimeField(null=True, blank=True)
    # Its calls may go once it is settled (paid or void) and this day has passed: the end of the dispute window,
    # moved on when a dispute is decided (the customer may still appeal, Tw 11.5(2)); an upheld dispute's void
    # invoice keeps them as long for its corrected one. Set by traffic.services.invoices only.
    calls_kept_until = models.DateField(null=True, blank=True)
    dispute_resolved_at = models.DateTimeField(null=True, blank=True)  # its last dispute decided (or voided)
    dispute_reason = models.TextField(blank=True, default="")  # the latest dispute's (InvoiceDispute): never audited
    reissue_reminded_at = models.DateTimeField(null=True, blank=True)  # billing told to reissue it in time
    # Amounts: lines net, subtotal their sum, VAT at vat_rate % (fixed at issue), total = subtotal + vat_amount due.
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    vat_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    # The customer as the invoice names them, fixed when it is made (an invoice must not change later):
    # personal data, so encrypted; printed on the PDF only.
    customer_name = EncryptedTextField(null=True, blank=True)
    customer_address = EncryptedTextField(null=True, blank=True)
    supplier = models.JSONField(default=dict, blank=True)  # ours as printed, fixed when made (Wet OB art. 35a)
    restricted_at = models.DateTimeField(null=True, blank=True)
    # How it charged a call stored before the import capped billsec (more talk time than the whole call): for its
    # duration at most (rating.BILLED_PRICE, every invoice made since), or False, issued before that rule, at the
    # call's stored price. Its itemised bill shows each call at the price it charged (selectors.calls).
    charged_for_duration = models.BooleanField(default=True)
    # A corrected invoice points at the void one it replaces (traffic.services.invoices.invoice_reissue); one
    # replacement per void invoice (one-to-one), and PROTECT: the void one stays as long as its successor.
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")

    class Meta:
        constraints = [
            # One live invoice per account and month; a void one may be replaced by a corrected one.
            models.UniqueConstraint(fields=["account", "period"], condition=~models.Q(status="void"),
                                    name="invoice_account_period_live_uniq"),
        ]
        # The purge's question: settled invoices whose calls are past their keep-until.
        indexes = [models.Index(fields=["status", "calls_kept_until"], name="invoice_status_kept_idx")]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and self.calls_kept_until is None:  # made outside the invoice run (fixtures)
            self.calls_kept_until = self.dispute_window_ends
        super().save(*args, **kwargs)

    @property
    def replacement_links(self) -> list[tuple[str, Invoice]]:
        """(words, invoice): the corrected one replacing this void one, the void one this replaces (pages)."""
        links = []
        if (replaced_by := getattr(self, "replaced_by", None)) is not None:
            links.append((_("replaced by"), replaced_by))
        if self.replaces_id is not None:
            links.append((_("replaces"), self.replaces))
        return links


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    zone = models.CharField(max_length=60)
    zone_nl = models.CharField(max_length=60, blank=True, default="")  # fixed when made (traffic.zone_names)
    month = models.DateField()
    calls = models.PositiveIntegerField()
    seconds = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)


class CallExport(models.Model):
    """A customer's CSV file of own calls, too many to stream inside a web request: a Celery task writes
    it (traffic.services.call_exports) encrypted under PRIVATE_FILES_DIR/call-exports, the owner
    downloads it until `expires_at`, and the purge deletes file and row after that (traffic.purgers).

    The filters are kept because the task reads what was asked for. The number filter is personal data:
    it is stored encrypted (the task needs it back) with its blind index (to find the same export still
    queued), never in plain text. Counts and errors hold no data either."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("being prepared")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="call_exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    direction = models.CharField(max_length=10, blank=True)
    number = EncryptedTextField(null=True, blank=True)  # E.164
    number_index = BlindIndexField(source="number", domain="phone", null=True, blank=True)
    # No constraint: an export lives a day, and the invoice purge deletes invoices without looking here.
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")
    calls = models.PositiveIntegerField(null=True, blank=True)  # rows written, once ready
    size = models.PositiveBigIntegerField(null=True, blank=True)  # bytes of the CSV, once ready
    # Named when the task starts, so a file a killed worker left half-written is still found and purged.
    file_name = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=200, blank=True)  # why it failed: a reason, never data
    created_at = models.DateTimeField(default=now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["owner", "status"], name="callexport_owner_status_idx"),
                   models.Index(fields=["expires_at"], name="callexport_expires_idx")]

    @property
    def is_unfinished(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def file_path(self) -> Path:
        return Path(settings.PRIVATE_FILES_DIR) / "call-exports" / self.file_name

    @property
    def file_labels(self) -> dict[str, str]:
        """What binds the encrypted file to this export (voipxs.privacy.files): its data key's label
        and the chunks' associated data, so no other file (a data-subject export's) passes for it."""
        return {"key_label": f"call-export:{self.pk}", "aad_prefix": f"call-export:{self.pk}"}


from .callsetup.models import BlockedPrefix, CallSetup  # noqa: E402,F401  click-to-call (issue 12)
from .push.models import PushCredential  # noqa: E402,F401  a switch's credential for live push
from .annotations.models import CdrAnnotation  # noqa: E402,F401  notes on calls (GDPR art. 16)
from .disputes.models import InvoiceDispute  # noqa: E402,F401  each dispute of an invoice, kept
from .masking.models import MaskedNumber  # noqa: E402,F401  the national masking list (Bude art. 4.2)
