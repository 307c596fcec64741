"""Disclosures: requests of authorities for user and traffic data, their review by two legal
officers, the package produced from the approved scope only, its delivery and the notice to the user.

Nothing here stores a target number in plain text: targets keep the E.164 number encrypted
(EncryptedTextField) with a blind index for lookups; received documents and package files are
encrypted at rest (AES-GCM, with the row as associated data) and carry their SHA-256.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.fields import EncryptedTextField

from .choices import Outcome, SlaStage  # noqa: F401  (defined there; imported from here too)


class AuthorityKind(models.TextChoices):
    POLICE = "police", _("Police unit")
    PROSECUTOR = "prosecutor", _("Public prosecutor")
    COURT = "court", _("Court")
    DISPUTE_COMMISSION = "dispute_commission", _("Dispute commission")
    MEDIATOR = "mediator", _("Mediator")


# Dispute bodies get data under the DISPUTE purpose; everyone else under LEGAL_OBLIGATION.
DISPUTE_AUTHORITY_KINDS = frozenset({AuthorityKind.DISPUTE_COMMISSION, AuthorityKind.MEDIATOR})


class DataCategory(models.TextChoices):
    USER_DATA = "user_data", _("User data (subscriber)")
    TRAFFIC_DATA = "traffic_data", _("Traffic data (calls)")


class LegalBasis(models.TextChoices):
    """What a request rests on. What each allows (categories, future reach, deadlines, preservation)
    is the table in bases.py."""

    SV_126N = "sv_126n", _("Sv 126n (traffic data)")
    SV_126NA = "sv_126na", _("Sv 126na (user data)")
    SV_126U = "sv_126u", _("Sv 126u (traffic data, organised crime)")
    SV_126UA = "sv_126ua", _("Sv 126ua (user data, organised crime)")
    SV_126ZH = "sv_126zh", _("Sv 126zh (traffic data, terrorism)")
    SV_126ZI = "sv_126zi", _("Sv 126zi (user data, terrorism)")
    SV_126NI = "sv_126ni", _("Sv 126ni (preservation)")
    COURT_ORDER = "court_order", _("Court order")
    DISPUTE_RULING = "dispute_ruling", _("Dispute body (Tw 11.5(6))")
    EU_PRODUCTION = "eu_production", _("EU production order (EPOC)")
    EU_PRESERVATION = "eu_preservation", _("EU preservation order (EPOC-PR)")


class Authority(models.Model):
    """A requesting body. Its contact channels are the body's own (switchboard, functional mailbox),
    checked once (verified_*) and used for the out-of-band callback of every request. Its e-mail domains
    are the ones it sends requests from: a request from any other domain is flagged at intake."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("Kind"), max_length=24, choices=AuthorityKind.choices)
    contact_phone = models.CharField(_("contact phone"), max_length=20, help_text=_("E.164, normalised"))
    contact_email = models.EmailField(_("contact e-mail address"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("verified by"))
    verification_note = models.CharField(_("verification note"), max_length=300, blank=True)
    # Lower-case domain names ("politie.nl"), no "@", no wildcards; a subdomain of one counts as listed
    # (services/authorities.py). Empty: every request received by e-mail is flagged.
    email_domains = models.JSONField(_("E-mail domains"), default=list, blank=True)
    # A change of the list waits for a second officer (services/authorities.py): the list proposed ([] with a
    # proposal time: no domain at all), who proposed it when. Until confirmed, intake checks the list above.
    email_domains_proposed = models.JSONField(default=list, blank=True)
    email_domains_proposed_at = models.DateTimeField(null=True, blank=True)
    email_domains_proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                                  on_delete=models.PROTECT, related_name="+")
    # The X.509 certificate packages are encrypted to (envelope.py), PEM, set through services/authorities.py;
    # its SHA-256 fingerprint and term kept beside it. Empty: no certificate, a package goes only on a channel
    # that is itself encrypted, which the officer records at delivery.
    certificate = models.TextField(blank=True, default="")
    certificate_sha256 = models.CharField(_("certificate SHA-256"), max_length=64, blank=True, default="")
    certificate_not_after = models.DateTimeField(_("certificate valid until"), null=True, blank=True)
    # A change of it waits for a second officer (services/authorities.py): the certificate proposed (PEM; "" with a
    # proposal time: its removal), its fingerprint, and who proposed it when. One officer alone cannot redirect it.
    certificate_proposed = models.TextField(blank=True, default="")
    certificate_proposed_sha256 = models.CharField(max_length=64, blank=True, default="")
    certificate_proposed_at = models.DateTimeField(null=True, blank=True)
    certificate_proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                                on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=now)
    # Who entered the body in the register: another officer verifies its channels (four eyes on the
    # register, since every callback trusts it). Empty for bodies registered before this was kept.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))

    class Meta:
        verbose_name, verbose_name_plural = _("Authority"), _("Authorities")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "kind"], name="authority_name_kind_uniq")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def certificate_expired(self) -> bool:
        return self.certificate_not_after is not None and self.certificate_not_after <= now()


class Status(models.TextChoices):
    RECEIVED = "received", _("Received")
    AUTHORITY_VERIFIED = "authority_verified", _("Authority verified")
    UNDER_REVIEW = "under_review", _("Under legal review")
    CLARIFICATION = "clarification", _("Clarification requested")
    APPROVED = "approved", _("Approved")
    PRODUCING = "producing", _("Being produced")
    PRODUCED = "produced", _("Produced")
    CHECKED = "checked", _("Output checked")
    DELIVERED = "delivered", _("Delivered")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = frozenset(set(Status.values) - {Status.CLOSED, Status.REJECTED, Status.WITHDRAWN})


class DisclosureRequest(models.Model):
    reference = models.CharField(_("Reference"), max_length=100, help_text=_("The authority's reference"))
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="requests",
                                  verbose_name=_("Authority"))
    legal_basis = models.CharField(_("Legal basis"), max_length=20, choices=LegalBasis.choices)
    categories = models.JSONField(_("Data categories"), default=list)
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))  # exclusive
    max_hits = models.PositiveIntegerField(null=True, blank=True)  # ETSI maxHits: the authority's cap on records
    # Targets live in DisclosureTarget; the count is kept here so that the database itself refuses
    # a request without any (a row constraint cannot look at another table).
    target_count = models.PositiveIntegerField(_("target count"))
    deadline = models.DateTimeField(_("Deadline"))
    emergency = models.BooleanField(_("emergency"), default=False)
    # Ordered by phone or in person: Sv 126ni(3) wants it confirmed in writing within 3 days, as an emergency's.
    oral_order = models.BooleanField(_("oral order"), default=False)
    # the written order is on file
    written_order_at = models.DateTimeField(_("written order at"), null=True, blank=True)
    # The domain of the e-mail address the request came from (the address itself is an officer's personal data
    # and is not kept), and whether the authority listed it at intake. Both empty: by phone, on paper, in person.
    sender_domain = models.CharField(_("sender domain"), max_length=253, blank=True, default="")
    sender_domain_listed = models.BooleanField(_("sender domain listed"), null=True, blank=True)
    secrecy_until = models.DateField(_("Secrecy until"), null=True, blank=True)  # no notice to the user before this day
    notice_user = models.BooleanField(_("Notify the user"), default=False)
    # A withheld notice (notice_user off) records why and when to look at the decision again; beat reminds the
    # officers on that day, once (notice_review_reminded_at). Both stay empty while the user is to be told.
    notice_withheld_reason = models.CharField(_("notice withheld reason"), max_length=300, blank=True, default="")
    notice_review_on = models.DateField(_("notice review on"), null=True, blank=True)
    notice_review_reminded_at = models.DateTimeField(_("notice review reminded at"), null=True, blank=True)
    status = models.CharField(_("Status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    received_at = models.DateTimeField(_("received at"), default=now)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # "phone" | "email" of the register
    verified_channel = models.CharField(_("verified channel"), max_length=10, blank=True)
    verified_contact = models.CharField(max_length=254, blank=True)  # the register's contact used
    review_started_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    produced_at = models.DateTimeField(_("produced at"), null=True, blank=True)
    production_started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # When the package build was queued: a request still producing long after has lost its task (the
    # broker was down) and the reaper sends it again (services/packages.py).
    production_started_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_receipt = models.CharField(max_length=300, blank=True)
    # What was handed over: the SHA-256 of the file (the .p7m, or the ZIP where no certificate was on file), of the
    # certificate it was encrypted to ("": not encrypted), and the encrypted channel recorded (needed without one).
    delivery_sha256 = models.CharField(_("delivery SHA-256"), max_length=64, blank=True, default="")
    delivery_encrypted_to = models.CharField(_("delivery encrypted to"), max_length=64, blank=True, default="")
    delivery_channel = models.CharField(max_length=200, blank=True, default="")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    narrowed_at = models.DateTimeField(null=True, blank=True)
    status_note = models.CharField(max_length=500, blank=True)  # clarification question, rejection reason
    hold = models.ForeignKey("retention.LegalHold", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("hold"))
    hold_release_due_at = models.DateTimeField(_("hold release due at"), null=True, blank=True)
    hold_released_at = models.DateTimeField(_("hold released at"), null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    sla_stage = models.CharField(_("deadline reminder stage"), max_length=3, choices=SlaStage.choices,
                                 default=SlaStage.NONE, blank=True)
    # Emergency: the written order is due this long after intake (DISCLOSURE_WRITTEN_ORDER_DAYS); late,
    # the officers are told once (escalated); a delivery made without it is flagged for the breach register.
    written_order_due_at = models.DateTimeField(_("written order due at"), null=True, blank=True)
    written_order_escalated_at = models.DateTimeField(_("written order escalated at"), null=True, blank=True)
    breach_flagged_at = models.DateTimeField(_("breach flagged at"), null=True, blank=True)
    breach_incident = models.ForeignKey("accounts.BreachIncident", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", verbose_name=_("breach incident"))
    # Preservation (bases.py): the hold ends at preserve_until; officers are reminded before; one renewal
    # under a new order (its reference recorded); or the order is converted into a production order.
    preserve_until = models.DateTimeField(_("preserve until"), null=True, blank=True)
    preservation_reminded_at = models.DateTimeField(_("preservation reminded at"), null=True, blank=True)
    renewed_at = models.DateTimeField(_("renewed at"), null=True, blank=True)
    renewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    renewal_reference = models.CharField(_("renewal reference"), max_length=100, blank=True)
    converted_to = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="converted_from", verbose_name=_("converted to"))
    production_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("disclosure request"), _("Disclosure requests")
        ordering = ["deadline"]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gt=F("window_start")), name="disclosure_window_positive"),
            models.CheckConstraint(condition=Q(target_count__gte=1), name="disclosure_has_target"),
            models.CheckConstraint(condition=Q(max_hits__gte=1), name="disclosure_max_hits_positive"),  # NULL: no cap
            models.CheckConstraint(condition=Q(legal_basis__in=LegalBasis.values), name="disclosure_basis_known"),
            models.CheckConstraint(condition=~Q(reference=""), name="disclosure_reference_present"),
            models.UniqueConstraint(fields=["authority", "reference"], name="disclosure_authority_reference_uniq"),
            models.CheckConstraint(condition=(Q(sender_domain="") & Q(sender_domain_listed__isnull=True))
                                   | (~Q(sender_domain="") & Q(sender_domain_listed__isnull=False)),
                                   name="disclosure_sender_domain_shape"),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="disclosure_status_deadline_idx")]

    def __str__(self) -> str:
        return f"disclosure request #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def awaiting_written_order(self) -> bool:
        return (self.emergency or self.oral_order) and self.written_order_at is None

    @property
    def written_order_missing(self) -> bool:
        """Data is handed over on the written order, which is not on file: nothing is approved, produced or
        delivered before it. An emergency or an oral order may go first (its order follows, flagged when
        late: awaiting_written_order); a preservation hands nothing over."""
        from .bases import PRESERVATION_BASES  # bases.py imports this module

        return (self.written_order_at is None and not (self.emergency or self.oral_order)
                and self.legal_basis not in PRESERVATION_BASES)

    @property
    def sender_unlisted(self) -> bool:
        """Received by e-mail from a domain the authority did not list at intake (or it listed none)."""
        return bool(self.sender_domain) and self.sender_domain_listed is False


class DisclosureTarget(models.Model):
    class Kind(models.TextChoices):
        NUMBER = "number", _("Number")
        ACCOUNT = "account", _("Account")

    request = models.ForeignKey(DisclosureRequest, on_delete=models.CASCADE, related_name="targets")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    number = EncryptedTextField(null=True, blank=True)  # E.164
    number_index = models.CharField(max_length=64, blank=True, db_index=True)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="number") & ~Q(number_index="") & Q(account__isnull=True))
                | (Q(kind="account") & Q(account__isnull=False) & Q(number_index="")),
                name="disclosure_target_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"target #{self.pk} ({self.kind})"


class DisclosureDocument(models.Model):
    """A document received with the request (the order, the request letter), encrypted in the database."""

    request = models.ForeignKey(DisclosureRequest, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content_enc = models.BinaryField()
    is_written_order = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"document #{self.pk}"


class Approval(models.Model):
    request = models.ForeignKey(DisclosureRequest, on_delete=models.CASCADE, related_name="approvals")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "officer"], name="approval_once_per_officer")]


class Package(models.Model):
    class State(models.TextChoices):
        SEALED = "sealed", _("Sealed")
        DELETED = "deleted", _("Deleted after retention")

    request = models.OneToOneField(DisclosureRequest, on_delete=models.PROTECT, related_name="package",
                                   verbose_name=_("Request"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SEALED)
    manifest = models.JSONField(default=dict)
    record_count = models.PositiveIntegerField(_("record count"), default=0)
    created_at = models.DateTimeField(_("created at"), default=now)
    delete_after = models.DateTimeField(_("delete after"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("Package"), _("packages")

    def __str__(self) -> str:
        return f"package #{self.pk}"


class PackageFile(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    content_enc = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["package", "name"], name="packagefile_name_uniq")]


class PackageSigningKey(models.Model):
    """An Ed25519 key that signs packages' seals (disclosures/signing.py). The newest signs; every one stays
    published for the packages it signed. The private half is encrypted like any personal field."""

    created_at = models.DateTimeField(default=now)
    fingerprint = models.CharField(max_length=16, unique=True)  # the first 16 hex digits of SHA-256(public key)
    public_key = models.CharField(max_length=64)  # raw, hex
    private_key = EncryptedTextField()  # raw, hex

    def __str__(self) -> str:
        return f"package signing key {self.fingerprint}"


class PackageDownload(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="downloads")
    downloaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    downloaded_at = models.DateTimeField(default=now)
    zip_sha256 = models.CharField(max_length=64)
    # The file handed out: the .p7m encrypted to the certificate `encrypted_to` names, or the ZIP itself ("").
    sha256 = models.CharField(max_length=64, blank=True, default="")
    encrypted_to = models.CharField(max_length=64, blank=True, default="")


class PackageEnvelope(models.Model):
    """The package's ZIP encrypted to one certificate (envelope.py). Made once per certificate and ZIP and then
    handed out as stored: an envelope draws a new content key each time it is made, and the delivery receipt
    names the SHA-256 of the very file the authority got. Readable only with the authority's private key;
    deleted with the package's files."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="envelopes")
    recipient_sha256 = models.CharField(max_length=64)  # the certificate's
    zip_sha256 = models.CharField(max_length=64)  # the sealed ZIP inside
    sha256 = models.CharField(max_length=64)  # of the .p7m
    content = models.BinaryField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["package", "recipient_sha256", "zip_sha256"],
                                               name="packageenvelope_once_uniq")]


class Notice(models.Model):
    """What the user is told: that data about them was disclosed, to whom (kind of body) and when (once sent)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft (to review)")
        WITHHELD = "withheld", _("Withheld (secrecy order)")
        SENT = "sent", _("Sent")

    request = models.ForeignKey(DisclosureRequest, on_delete=models.CASCADE, related_name="notices",
                                verbose_name=_("Request"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="disclosure_notices")
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    withheld_until = models.DateField(_("withheld until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name, verbose_name_plural = _("notice"), _("notices")
        constraints = [models.UniqueConstraint(fields=["request", "user"], name="notice_once_per_user")]
        ordering = ["-created_at"]
