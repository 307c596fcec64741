from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from voipxs.privacy.fields import BlindIndexField, EncryptedTextField
from voipxs.privacy.phone import normalize_e164


def normalize_email_address(value: str) -> str:
    """The blind index is over the lower-cased address, so lookups are case-insensitive."""
    return value.strip().lower()


class Itemisation(models.TextChoices):
    """Whether a bill lists the calls, and how it shows the other party's number (Tw 11.4, ePrivacy art. 7).
    Not itemised unless the subscriber opts in (GDPR art. 25): the default of the Contractor's setting and of
    an individual User's own."""

    FULL = "full", _("itemised, numbers in full")
    MASKED = "masked", _("itemised, numbers masked")
    NONE = "none", _("not itemised (totals only)")


class Contractor(models.Model):
    """A business customer (the policy's "Contractor") that owns Users."""

    Itemisation = Itemisation

    name = models.CharField(_("name"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), default=now)
    # Its Users' bills (their own setting below does not apply to them). The latest choice: a change applies from
    # the next billing period on, and bills of the periods before keep what applied then (ItemisationChange).
    itemisation = models.CharField(_("itemised bills"), max_length=8, choices=Itemisation.choices,
                                   default=Itemisation.NONE)
    # Calls to freephone and helpline numbers left off its Users' itemised bills (they still count in the totals).
    omit_free_numbers = models.BooleanField(_("leave free and helpline numbers off itemised bills"), default=True)
    # Its contract ended (accounts.services.closing.contractor_close): its Users' accounts were closed with it.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Its last User was anonymised, and then its name and billing address went (contractor_anonymise).
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contractor")
        verbose_name_plural = _("contractors")

    def __str__(self) -> str:
        return self.name


class AccountCloseReason(models.TextChoices):
    """Why staff closed an account; audited as the code (free text could hold personal data)."""

    CONTRACT_ENDED = "contract_ended", _("contract ended")
    CUSTOMER_REQUEST = "customer_request", _("customer asked to end the contract")
    NON_PAYMENT = "non_payment", _("contract ended for non-payment")
    FRAUD = "fraud", _("fraud or abuse")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, email: str | None = None, password: str | None = None, **extra) -> "User":
        if not username:
            raise ValueError("A login name is required")
        user = self.model(username=self.model.normalize_username(username), email=email or None, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, email: str | None = None, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. E-mail is encrypted; `email_index` finds a user by address."""

    username = models.CharField(_("login name"), max_length=150, unique=True, validators=[UnicodeUsernameValidator()])
    email = EncryptedTextField(_("e-mail address"), null=True, blank=True)
    email_index = BlindIndexField(source="email", domain="email", normalizer=normalize_email_address, null=True, blank=True)
    contractor = models.ForeignKey(Contractor, null=True, blank=True, on_delete=models.PROTECT, related_name="users",
                                   verbose_name=_("contractor"))
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=now)
    # no sign-in from then on (account_close, erasure)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Login name, e-mail, devices and numbers removed (erasure at once; a closed account by the retention purge).
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    restricted_at = models.DateTimeField(_("restricted since"), null=True, blank=True)  # GDPR art. 18 restriction (accounts/dsr/services.py)
    # Bude art. 4.2(1): this user's numbers show masked on other people's itemised bills.
    number_masked = models.BooleanField(_("mask my number on other people's bills"), default=False)
    # The bills of a User without a Contractor (accounts.services.users.user_itemisation_set); a Contractor's
    # Users get the Contractor's setting instead.
    itemisation = models.CharField(_("itemised bills"), max_length=8, choices=Itemisation.choices,
                                   default=Itemisation.NONE)
    omit_free_numbers = models.BooleanField(_("leave free and helpline numbers off itemised bills"), default=True)
    # Support changed the itemisation at the customer's request: the e-mail telling them is due since then; cleared
    # when sent (or when there is nobody to tell). A reaper sends it again if the broker lost it.
    itemisation_notice_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The language the person last chose in the portal (accounts.services.users.user_language_set): the e-mails
    # to them are written in it (voipxs.mail.person_language). Empty: never chose, so the site's default.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default="")

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # The few users who asked to be masked, read on every itemised page (traffic.selectors.masking).
        indexes = [
            models.Index(fields=["id"], condition=models.Q(number_masked=True), name="user_number_masked_idx"),
            # The few users owed an itemisation notice, counted by /healthz and the staff home page's warnings
            # (accounts/ops_status.py) on every probe: without it each probe read the whole user table.
            models.Index(fields=["itemisation_notice_due_at"], name="user_itemisation_due_idx",
                         condition=models.Q(itemisation_notice_due_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.username


class ItemisationChange(models.Model):
    """A change of a Contractor's or an individual User's itemised bills (LEGAL.md row 9): the new choice, on the
    party itself, applies from `valid_from`, the billing period after the one it was made in (an invoice's
    period: a calendar month, UTC), as the masking list's entries do (Bude art. 4.2(3)). What applied before is
    kept here, so that a bill of an earlier period keeps the setting of its period. Changes made in one period
    are one row (the first one's "before"); written by accounts.services.users only, read by
    accounts.selectors.itemisation_history."""

    contractor = models.ForeignKey(Contractor, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="itemisation_changes")
    user = models.ForeignKey("User", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="itemisation_changes")
    valid_from = models.DateField()  # the first day of the billing period the new choice applies from
    itemisation_before = models.CharField(max_length=8, choices=Itemisation.choices)
    omit_free_before = models.BooleanField()
    changed_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True, contractor__isnull=False) | Q(user__isnull=False, contractor__isnull=True),
                name="itemisationchange_one_party"),
            models.UniqueConstraint(fields=["contractor", "valid_from"], condition=Q(contractor__isnull=False),
                                    name="itemisationchange_contractor_uniq"),
            models.UniqueConstraint(fields=["user", "valid_from"], condition=Q(user__isnull=False),
                                    name="itemisationchange_user_uniq"),
        ]

    def __str__(self) -> str:
        return f"itemisation change #{self.pk} from {self.valid_from}"


class PhoneNumber(models.Model):
    """A number held by a user for a period [valid_from, valid_to). Periods of one number never overlap,
    so "who held +31… at time T" has exactly one answer (enforced by phone_number_assign and, on
    PostgreSQL, by an exclusion constraint)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_numbers", verbose_name=_("user"))
    number = EncryptedTextField(_("number (E.164)"))
    number_index = BlindIndexField(source="number", domain="phone", normalizer=normalize_e164)
    label = models.CharField(_("Label"), max_length=60, blank=True)
    valid_from = models.DateTimeField(_("valid from"), default=now)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)  # exclusive; None = still held

    class Meta:
        verbose_name, verbose_name_plural = _("phone number"), _("phone numbers")
        indexes = [models.Index(fields=["number_index", "valid_from"], name="phone_index_from_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="phone_period_positive",
            )
        ]

    def __str__(self) -> str:
        return f"number #{self.pk}"

    def held_at(self, moment) -> bool:
        return self.valid_from <= moment and (self.valid_to is None or moment < self.valid_to)


class RoleGrant(models.Model):
    """A role that one admin asked to give and a second admin must approve (SECOND_ADMIN_ROLES in
    accounts.services.roles): the roles that open secret disclosures, the DPO's registers, or the admin
    itself. Until approved, the user does not hold the role; the request and its decision are audited."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a second admin")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=32)
    status = models.CharField(_("Status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested at"), default=now)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("role grant"), _("role grants")
        ordering = ("-requested_at",)
        constraints = [
            models.UniqueConstraint(fields=("user", "role"), condition=Q(status="pending"),
                                    name="rolegrant_one_pending_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.role} for user {self.user_id} ({self.status})"


class CallSetupToken(models.Model):
    """A token the click-to-call extension sends with a call set-up (issue 12). It opens the call set-up API
    and nothing else; only its SHA-256 digest is stored (the token is 256 random bits, shown once)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="call_setup_tokens")
    name = models.CharField(_("name"), max_length=60)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)  # the token's first characters, to tell tokens apart
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["user", "revoked_at"], name="callsetuptoken_user_idx")]

    def __str__(self) -> str:
        return f"call set-up token #{self.pk}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class BillingAddress(models.Model):
    """The name and postal address an invoice is made out to (Wet OB: the customer's name and address):
    the Contractor's for its Users' invoices, else the user's own. Encrypted; read only through
    accounts.selectors.billing_address_get (purpose-bound, audited). Each invoice keeps its own copy,
    so a later change never alters an invoice already issued."""

    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.CASCADE, related_name="billing_address")
    contractor = models.OneToOneField(Contractor, null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="billing_address")
    name = EncryptedTextField(_("name on the invoice"))
    street = EncryptedTextField(_("street"))
    house_number = EncryptedTextField(_("house number and addition"))
    postcode = EncryptedTextField(_("postcode"))
    town = EncryptedTextField(_("town"))
    country = models.CharField(_("country"), max_length=2, default="NL")
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=Q(user__isnull=True, contractor__isnull=False) | Q(user__isnull=False, contractor__isnull=True),
            name="billing_address_one_party")]

    def __str__(self) -> str:
        return f"billing address #{self.pk}"


class UserSession(AbstractBaseSession):
    """A browser's session: Django's database session, with the id of its signed-in user beside the signed
    data. Every signed-in page reads its session and its user in one statement joined on it
    (accounts.sessions), and a user's sessions are found without decoding every live session (signing out
    everywhere when an account closes). Goes with its user."""

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


from .dsr.models import (  # noqa: E402,F401  data-subject requests, policy versions, breach register
    BreachIncident, BreachNotification, DataSubjectRequest, ExportDownload, ExportFile, PolicyNoticeSeen, PolicyVersion,
    RecipientNotification, RepresentativeProof, Restriction,
)
from .dsr.objection_models import Objection  # noqa: E402,F401  GDPR art. 21 objections and their balancing
from .ciot.models import CiotSyncRun, SubscriberDetails  # noqa: E402,F401  the CIOT subscriber file (Tw 13.4)
