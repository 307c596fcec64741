"""Data-subject requests, export files, policy versions and notices, the breach register.

Imported at the end of accounts/models.py so Django finds them in the accounts app (app label
"accounts", tables accounts_*), though they live in this subpackage.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.timezone import now
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.fields import EncryptedTextField

from .deadlines import DEADLINE_MONTHS, ReminderStage, add_months, reminder_stage_at


class DataSubjectRequest(models.Model):
    class Kind(models.TextChoices):
        ACCESS = "access", _("Access to my data (GDPR art. 15)")
        PORTABILITY = "portability", _("A copy to take elsewhere (GDPR art. 20)")
        RECTIFICATION = "rectification", _("Correct my data (GDPR art. 16)")
        ERASURE = "erasure", _("Erase my data and close my account (GDPR art. 17)")
        RESTRICTION = "restriction", _("Restrict the processing of my data (GDPR art. 18)")
        OBJECTION = "objection", _("Object to processing based on legitimate interests (GDPR art. 21)")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")

    class RepresentativeKind(models.TextChoices):
        """Who made the request for the person, when support records one made through a representative (a code)."""

        LAWYER = "lawyer", _("Lawyer")
        LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian (of a minor)")
        POWER_OF_ATTORNEY = "power_of_attorney", _("Someone with a power of attorney")
        OTHER = "other", _("Other representative")

    OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dsr_requests")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    details = models.TextField(blank=True)  # the user's own words (rectification: what is wrong)
    received_at = models.DateTimeField(default=now)
    deadline = models.DateTimeField()
    extended_at = models.DateTimeField(null=True, blank=True)
    # The e-mail telling the person of the extension is due since then (dsr/extension_notice.py); cleared when sent.
    extension_notice_due_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)  # shown to the user
    completed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(default=dict, blank=True)  # counts and kept categories, never data
    answer = models.TextField(blank=True)  # what the user is told
    # Cleared when the deadline moves (extension), so the new deadline is reminded of again.
    reminder_stage = models.CharField(max_length=8, choices=ReminderStage.choices, default=ReminderStage.NONE, blank=True)
    # Made through a representative (support records it: accounts/support): the kind's code; their name, encrypted
    # (the representative's personal data, shown to the DPO only, never in the audit log); and when support
    # confirmed it had checked their proof of authority. The answer still goes to the person's own account.
    representative_kind = models.CharField(max_length=20, choices=RepresentativeKind.choices, blank=True)
    representative_name = EncryptedTextField(_("representative's name"), null=True, blank=True)
    representative_checked_at = models.DateTimeField(null=True, blank=True)
    # The representative's name is a third party's personal data, kept only for the accountability of this request:
    # it goes when the person's account is erased or anonymised (dsr/representative.py), and this says when. The
    # kind and the check stay, as the record of who asked and that their authority was checked.
    representative_name_erased_at = models.DateTimeField(null=True, blank=True)
    # When the free texts went with the erased or anonymised account (dsr/texts.py says which, and what stays).
    texts_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "deadline"], name="dsr_status_deadline_idx")]
        constraints = [
            # No request through a representative without the check of their proof of authority.
            models.CheckConstraint(
                condition=models.Q(representative_kind="") | models.Q(representative_checked_at__isnull=False),
                name="dsr_representative_checked"),
            # A request through a representative holds either their name or when it was erased, never both nor
            # neither; a request the person made themselves holds neither.
            models.CheckConstraint(
                condition=(models.Q(representative_kind="", representative_name__isnull=True,
                                    representative_name_erased_at__isnull=True)
                           | (~models.Q(representative_kind="")
                              & (models.Q(representative_name__isnull=False, representative_name_erased_at__isnull=True)
                                 | models.Q(representative_name__isnull=True,
                                            representative_name_erased_at__isnull=False)))),
                name="dsr_representative_named"),
            # The person's words stay erased (`details` is written only when an open account makes a request).
            models.CheckConstraint(condition=models.Q(texts_erased_at__isnull=True) | models.Q(details=""),
                                   name="dsr_erased_no_details"),
        ]
        ordering = ["deadline"]

    def __str__(self) -> str:
        return f"request #{self.pk} ({self.kind})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def representative_proof_kept(self) -> bool:
        """Whether a copy of the representative's proof of authority is kept (that it is, never the file): what the
        person's export, API and page say. Readers select_related the proof and defer its content."""
        return hasattr(self, "representative_proof")

    @staticmethod
    def first_deadline(received_at):
        return add_months(received_at, DEADLINE_MONTHS)

    @property
    def deadline_state(self) -> str:
        """For the DPO's list: "overdue", "due_soon" (within DSR_REMINDER_DAYS) or "" (closed or not near)."""
        if not self.is_open:
            return ReminderStage.NONE
        return reminder_stage_at(self.deadline, now(), timedelta(days=settings.DSR_REMINDER_DAYS))


class RepresentativeProof(models.Model):
    """The representative's proof of authority (a power of attorney, a proof of guardianship, a lawyer's mandate),
    when support uploaded it with the request: a PDF or an image, encrypted in the database under the master key
    (voipxs.privacy.crypto, as disclosures' received documents), read by the DPO only, and deleted with the
    representative's name (dsr/representative.py). No file name: it could name the person or the representative."""

    request = models.OneToOneField(DataSubjectRequest, on_delete=models.CASCADE, related_name="representative_proof")
    content_type = models.CharField(max_length=20)  # from the file's own first bytes, not what the browser said
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content_enc = models.BinaryField()
    uploaded_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"proof of authority #{self.pk}"


class ExportFile(models.Model):
    """An encrypted ZIP of everything held about a user; the file lives in PRIVATE_FILES_DIR."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")
        DELETED = "deleted", _("Deleted")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="exports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=120, blank=True)  # relative to PRIVATE_FILES_DIR/exports
    size = models.BigIntegerField(default=0)  # plaintext ZIP size
    sha256 = models.CharField(max_length=64, blank=True)  # of the plaintext ZIP
    rows = models.JSONField(default=dict, blank=True)  # counts per section
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"], name="export_status_expiry_idx")]


class ExportDownload(models.Model):
    export = models.ForeignKey(ExportFile, on_delete=models.CASCADE, related_name="downloads")
    downloaded_at = models.DateTimeField(default=now)


class PolicyVersion(models.Model):
    version = models.CharField(max_length=20, unique=True)
    published_at = models.DateTimeField(null=True, blank=True)  # None: draft
    substantive = models.BooleanField(default=False)
    summary = models.TextField(help_text=_("What changed, in plain words (shown in the notice)."))
    # A version the system generated (a retention period changed) has its summary in each language too.
    summaries = models.JSONField(default=dict, blank=True)
    text = models.TextField()  # in English: the policy as published, which every other language translates
    text_nl = models.TextField(blank=True, default="")  # the same policy in Dutch, where given ("": English only)
    created_at = models.DateTimeField(default=now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The change e-mail goes out in batches of users by pk (dsr/policy.py): users up to this pk were mailed. A batch
    # whose task is delivered again (Celery delivers at least once) finds it moved on and mails nobody twice.
    email_cursor = models.BigIntegerField(default=0)
    # Set while the e-mail is owed (published with it, not finished), moved on by every batch sent: one that has not
    # moved for TASK_RESEND_AFTER_SECONDS lost its task (broker down, mail refused through every retry) and the
    # reaper sends it again from the cursor (dsr/policy.py policy_notices_requeue).
    email_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]

    def __str__(self) -> str:
        return f"policy {self.version}"

    @property
    def summary_shown(self) -> str:
        """The summary in the page's language where the version has one in it, else the one typed (English)."""
        return self.summaries.get(get_language() or "", self.summary) if self.summaries else self.summary

    @property
    def summary_shown_lang(self) -> str:
        """"en" where `summary_shown` is the English of a page in another language (its element says so, WCAG
        3.1.2), else ""."""
        language = (get_language() or "en").split("-")[0]
        return "" if language == "en" or language in self.summaries else "en"


class PolicyNoticeSeen(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="seen_by")
    seen_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="policy_seen_user_version_uniq")]


class BreachIncident(models.Model):
    """A personal-data breach (GDPR art. 33/34; Tw 11.3a and Reg. (EU) 611/2013 for telecom)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    title = models.CharField(max_length=200)
    detected_at = models.DateTimeField()
    scope = models.TextField(help_text=_("What data, how many people, how (no personal data here)."))
    affected_count = models.PositiveIntegerField(default=0)
    # True unless said otherwise: a breach of subscriber, traffic or account data is one (LEGAL.md 1.7), 24 hours.
    telecom_service = models.BooleanField(
        default=True, help_text=_("Breach in the provision of the public electronic communications service."))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=now)
    closed_at = models.DateTimeField(null=True, blank=True)
    authority_notified_at = models.DateTimeField(null=True, blank=True)
    authority_not_notified_reason = models.TextField(blank=True)
    # Reg. (EU) 611/2013 art. 2(3): a telecom breach's initial notification is followed by the full one within
    # 3 days. Set by that initial notification to the authority; cleared by its follow-up or final one.
    authority_full_due_at = models.DateTimeField(null=True, blank=True)
    users_notified_at = models.DateTimeField(null=True, blank=True)
    users_not_notified_reason = models.TextField(blank=True)
    reminder_stage = models.CharField(max_length=8, choices=ReminderStage.choices, default=ReminderStage.NONE, blank=True)

    class Meta:
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"breach #{self.pk}"

    TELECOM_CLOCK_HOURS = 24  # Tw 11.3a, Reg. (EU) 611/2013 art. 2(2)
    GDPR_CLOCK_HOURS = 72  # GDPR art. 33(1)
    FULL_NOTIFICATION_DAYS = 3  # Reg. (EU) 611/2013 art. 2(3), after the initial notification

    @property
    def clock_hours(self) -> int:
        return self.TELECOM_CLOCK_HOURS if self.telecom_service else self.GDPR_CLOCK_HOURS

    @property
    def authority_deadline(self):
        return self.detected_at + timedelta(hours=self.clock_hours)

    @property
    def clock_deadline(self):
        """When the authority is next owed a notification: the first one, then (after an initial one) the full
        one; None when nothing is owed."""
        if self.status != self.Status.OPEN:
            return None
        return self.authority_deadline if self.authority_notified_at is None else self.authority_full_due_at

    @property
    def clock_state(self) -> str:
        """For the register: "overdue", "due_soon" (within BREACH_REMINDER_HOURS) or "" (nothing owed, closed)."""
        deadline = self.clock_deadline
        if deadline is None:
            return ReminderStage.NONE
        return reminder_stage_at(deadline, now(), timedelta(hours=settings.BREACH_REMINDER_HOURS))

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.status == self.Status.CLOSED:
            if not self.authority_notified_at and not self.authority_not_notified_reason.strip():
                errors["authority_not_notified_reason"] = str(BREACH_AUTHORITY_UNRECORDED)
            if not self.users_notified_at and not self.users_not_notified_reason.strip():
                errors["users_not_notified_reason"] = str(BREACH_USERS_UNRECORDED)
            if self.authority_full_due_at is not None:
                errors["authority_full_due_at"] = str(BREACH_FULL_UNRECORDED)
        if errors:
            raise ValidationError(errors)


BREACH_AUTHORITY_UNRECORDED = _("Record when the authority (AP) was notified, or why not.")
BREACH_USERS_UNRECORDED = _("Record when the affected users were told, or why not.")
BREACH_FULL_UNRECORDED = _("Record the full notification to the authority: it follows the initial one within "
                           "3 days (Reg. (EU) 611/2013 art. 2(3)).")


class Restriction(models.Model):
    """A GDPR art. 18 restriction of one person's processing, as the DPO decided it: on which ground of art.
    18(1), until when, and its lift, which art. 18(3) lets come only after the person was told. The marks on
    the data themselves (`restricted_at`) are set and cleared by accounts/dsr/restriction.py."""

    class Ground(models.TextChoices):
        ACCURACY_CONTESTED = "accuracy_contested", _("Accuracy contested, for the time to verify it (art. 18(1)(a))")
        UNLAWFUL = "unlawful", _("Processing unlawful, and the person opposes erasure (art. 18(1)(b))")
        LEGAL_CLAIMS = "legal_claims", _("No longer needed, but the person needs it for legal claims (art. 18(1)(c))")
        OBJECTION_PENDING = "objection_pending", _("Objection under art. 21(1) pending verification (art. 18(1)(d))")

    class NoticeChannel(models.TextChoices):
        """How the person was told of the lift (art. 18(3)): our e-mail, or another way the DPO records."""

        EMAIL = "email", _("by our e-mail")
        LETTER = "letter", _("by letter")
        PHONE = "phone", _("by phone")
        IN_PERSON = "in_person", _("in person")

    class EndChangeReason(models.TextChoices):
        """Why the DPO moved the last day of an active restriction: a code, never free text, so that the audit
        entry that records the change holds no words of, or about, the person."""

        CHECK_LONGER = "check_longer", _("The check takes longer than planned")
        CHECK_SOONER = "check_sooner", _("The check ends sooner than planned")
        PERSON_ASKED = "person_asked", _("The person asked for another end date")
        DATE_WRONG = "date_wrong", _("The recorded end date was a mistake")

    class NoticeWithdrawal(models.TextChoices):
        """What withdrew a notice of the lift (or called off one asked for): the pages name it."""

        END_CHANGE = "end_change", _("The end date moved")
        NEW_DECISION = "new_decision", _("A new decision was recorded")

    # These grounds last only while something is checked: the end date is required.
    GROUNDS_WITH_END = frozenset({Ground.ACCURACY_CONTESTED, Ground.OBJECTION_PENDING})
    # "Due soon": a last day within this many days. A week, because the lift must wait for the person to be told
    # (art. 18(3)), and a letter takes days: time to tell them, or to move the end date, before the day passes.
    DUE_SOON_DAYS = 7

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="restrictions")
    request = models.ForeignKey(DataSubjectRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("data-subject request"))
    # Blank only for restrictions applied before the ground was recorded (migration 0018).
    ground = models.CharField(_("Ground"), max_length=20, choices=Ground.choices, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)  # the last day (Europe/Amsterdam); None: no end set
    started_at = models.DateTimeField(_("started at"), default=now)
    # The DPO asked for the e-mail of art. 18(3) (a reaper sends it again if the broker lost it) ...
    lift_notice_asked_at = models.DateTimeField(_("lift notice asked at"), null=True, blank=True)
    # ... and the person was told
    lift_notice_sent_at = models.DateTimeField(_("lift notice sent at"), null=True, blank=True)
    lift_notice_channel = models.CharField(_("lift notice channel"), max_length=10, choices=NoticeChannel.choices,
                                           blank=True)
    # The end date moved, or a new decision was recorded, after the person was told of the lift: that notice was
    # withdrawn then (and by which of the two), so the lift waits for a new one (art. 18(3)) ...
    lift_notice_withdrawn_at = models.DateTimeField(_("lift notice withdrawn at"), null=True, blank=True)
    lift_notice_withdrawn_by = models.CharField(_("lift notice withdrawn by"), max_length=12,
                                                choices=NoticeWithdrawal.choices, blank=True)
    # ... and the e-mail telling them the restriction continues is due since then (sent by a task after the commit,
    # again by the reaper if the broker lost it); cleared when sent, or when there is nobody to e-mail.
    continuation_notice_due_at = models.DateTimeField(_("continuation notice due at"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    # The DPO is reminded once when the last day is near (DUE_SOON_DAYS) and once when it passed; cleared when
    # the end date moves (a new decision, or restriction_end_change).
    reminder_stage = models.CharField(_("reminder stage"), max_length=8, choices=ReminderStage.choices,
                                      default=ReminderStage.NONE,
                                      blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("restriction"), _("Restrictions")
        constraints = [models.UniqueConstraint(fields=["user"], condition=models.Q(lifted_at__isnull=True),
                                               name="restriction_one_active_per_user")]
        # The daily reminder's scan: active restrictions by end date.
        indexes = [models.Index(fields=["lifted_at", "ends_on"], name="restriction_active_end_idx")]
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"restriction #{self.pk}"


from .recipient_models import RecipientNotification  # noqa: E402,F401  GDPR art. 19 (recipients to tell)
from .breach_models import BreachNotification  # noqa: E402,F401  the breach register's notifications
