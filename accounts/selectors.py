"""Every read of personal data in accounts: purpose-bound, audited."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.timezone import localdate, now
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from voipxs.months import add_months, month_start
from voipxs.privacy.crypto import blind_index
from voipxs.privacy.phone import InvalidNumber, normalize_e164
from voipxs.privacy.purposes import Purpose, objectable, require_purpose

from .dsr.objection import objected_user_ids
from .models import (
    BillingAddress, CallSetupToken, Contractor, Itemisation, ItemisationChange, PhoneNumber, User,
    normalize_email_address,
)

# Purposes under which staff may look at any user's profile; SELF_SERVICE only ever sees oneself.
_STAFF_WIDE = {Purpose.SECURITY, Purpose.BILLING, Purpose.LEGAL_OBLIGATION, Purpose.DISPUTE}
# GDPR art. 18(2): a restricted person's data is only processed for legal claims and legal obligations.
SEES_RESTRICTED = frozenset({Purpose.LEGAL_OBLIGATION, Purpose.DISPUTE})


def access_user(*, actor, purpose: Purpose | str, user_id: int) -> User:
    """A user's profile. Customers get only themselves; anything else is a 404 (no existence leak)."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="user.get", target_type="user", target_id=user_id)
    qs = User.objects.select_related("contractor")
    if purpose == Purpose.SELF_SERVICE:
        qs = qs.filter(pk=actor.pk)
    elif purpose == Purpose.CONTRACTOR_INFORMATION:
        qs = qs.filter(contractor_id=actor.contractor_id) if actor.contractor_id else qs.none()
    elif purpose not in _STAFF_WIDE:
        qs = qs.none()
    if purpose not in SEES_RESTRICTED:
        qs = qs.filter(restricted_at__isnull=True)
    if objectable(purpose):  # GDPR art. 21(1): an upheld objection stops this purpose's processing of the account
        qs = qs.exclude(pk__in=objected_user_ids(purpose))
    try:
        return qs.get(pk=user_id)
    except User.DoesNotExist:
        raise Http404 from None


def account_to_close(*, actor, purpose: Purpose | str, user_id: int) -> User:
    """The account a closing acts on (accounts.services.closing.account_close), restricted ones too: the contract
    ends whatever a restriction (GDPR art. 18), which stays in force and in the record. Staff-wide purposes only;
    its profile is not shown, only the closing's outcome. A 404 for any other purpose or an unknown account."""
    purpose = require_purpose(actor=actor, purpose=purpose, action="user.close_target", target_type="user",
                              target_id=user_id)
    user = User.objects.filter(pk=user_id).first() if purpose in _STAFF_WIDE else None
    if user is None:
        raise Http404
    return user


def phone_number_list(*, actor, purpose: Purpose | str, user: User, current_only: bool = False) -> QuerySet[PhoneNumber]:
    """The numbers a user holds or held, newest first."""
    access_user(actor=actor, purpose=purpose, user_id=user.pk)
    qs = PhoneNumber.objects.filter(user=user).order_by("-valid_from")
    if current_only:
        moment = now()
        qs = qs.filter(valid_from__lte=moment).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=moment))
    return qs


def phone_number_holder_at(*, actor, purpose: Purpose | str, number: str, at: datetime,
                           default_region: str = "NL") -> PhoneNumber | None:
    """Who held `number` at `at` (one answer or none), through the blind index."""
    require_purpose(actor=actor, purpose=purpose, action="phone_number.holder_at", target_type="phone_lookup")
    try:
        index = blind_index(normalize_e164(number, default_region), domain="phone")
    except InvalidNumber:
        return None
    qs = (
        PhoneNumber.objects.select_related("user")
        .filter(number_index=index, valid_from__lte=at)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))
    )
    if purpose not in SEES_RESTRICTED:
        qs = qs.filter(user__restricted_at__isnull=True)
    if objectable(purpose):
        qs = qs.exclude(user_id__in=objected_user_ids(purpose))
    return qs.first()


def contractor_user_names(*, actor, user_ids) -> dict[int, str]:
    """The login names (the names the Contractor created its Users under) of those of `user_ids` that
    belong to the actor's contractor: its call pages say which User made each call. Audited under
    CONTRACTOR_INFORMATION; anyone else's ids are left out, never named."""
    ids = sorted({int(i) for i in user_ids if i})
    require_purpose(actor=actor, purpose=Purpose.CONTRACTOR_INFORMATION, action="user.names", target_type="contractor",
                    target_id=getattr(actor, "contractor_id", "") or "", extra={"users": len(ids)})
    if not ids or not getattr(actor, "contractor_id", None):
        return {}
    return dict(User.objects.filter(pk__in=ids, contractor_id=actor.contractor_id, restricted_at__isnull=True)
                .values_list("pk", "username"))


def user_by_email(*, email: str) -> User | None:
    """Internal lookup for login and password reset (the person themself proves the address)."""
    index = blind_index(normalize_email_address(email), domain="email")
    return User.objects.filter(email_index=index, is_active=True).first()


def billing_period(moment: datetime | None = None) -> date:
    """The billing period `moment` (default now) falls in: its first day, as an invoice's `period` (a calendar
    month in Amsterdam, voipxs.timeutil.month_bounds: at 00:30 on 1 March there, 23:30 UTC on 28 February, it is
    March)."""
    return month_start(localdate(moment or now()))


def next_billing_period(moment: datetime | None = None) -> date:
    """The period after the one `moment` falls in: when a change of itemised bills made then applies."""
    return add_months(billing_period(moment), 1)


@dataclass(frozen=True)
class ItemisationSetting:
    itemisation: str  # an Itemisation value
    omit_free_numbers: bool  # calls to freephone and helpline numbers are left off the call list

    @property
    def itemised(self) -> bool:
        return self.itemisation != Itemisation.NONE

    @property
    def label(self):
        """Lazy: it is rendered in the language active where it is used (an e-mail in its recipient's)."""
        return Itemisation(self.itemisation).label


_NOT_ITEMISED = ItemisationSetting(Itemisation.NONE, True)  # GDPR art. 25, when nothing is known


@dataclass(frozen=True)
class ItemisationHistory:
    """The itemised-bill settings of a Contractor or an individual User by billing period: `periods` holds
    (first period, setting) oldest first, the first from the beginning (None)."""

    periods: tuple[tuple[date | None, ItemisationSetting], ...]

    def at(self, period: date) -> ItemisationSetting:
        """The setting of the bills of `period` (an invoice's period, or any day in it)."""
        found = self.periods[0][1]
        for start, setting in self.periods:
            if start is None or start <= period:
                found = setting
        return found

    def current(self, today: date | None = None) -> ItemisationSetting:
        return self.at(billing_period() if today is None else month_start(today))

    def pending(self, today: date | None = None) -> tuple[date, ItemisationSetting] | None:
        """(from which period, the setting) of a change that does not apply yet, or None."""
        period = billing_period() if today is None else month_start(today)
        later = [(start, setting) for start, setting in self.periods if start is not None and start > period]
        return later[-1] if later else None


def itemisation_history(*, user=None, contractor: Contractor | int | None = None,
                        individual: bool = False) -> ItemisationHistory:
    """The settings that apply to `user`'s bills period by period (a Contractor's User: the contractor's, read
    now; an individual: their own, as `user` was read for this request), or to `contractor`'s Users' (a
    Contractor or its id). `individual`: `user`'s own, whatever contractor they belong to now."""
    contractor_id = (contractor if isinstance(contractor, int) else getattr(contractor, "pk", None)) \
        or (None if individual else getattr(user, "contractor_id", None))
    if contractor_id:
        row = Contractor.objects.filter(pk=contractor_id).values_list("itemisation", "omit_free_numbers").first()
        latest, party = (ItemisationSetting(*row) if row else _NOT_ITEMISED), {"contractor_id": contractor_id}
    elif user is not None and getattr(user, "pk", None) is not None:
        latest = ItemisationSetting(getattr(user, "itemisation", None) or Itemisation.NONE,
                                    getattr(user, "omit_free_numbers", True))
        party = {"user_id": user.pk}
    else:
        return ItemisationHistory(((None, _NOT_ITEMISED),))
    changes = list(ItemisationChange.objects.filter(**party).order_by("valid_from", "id")
                   .values_list("valid_from", "itemisation_before", "omit_free_before"))
    # Each change keeps what applied before it; the latest choice applies from the last change on.
    starts = [None, *(valid_from for valid_from, _i, _o in changes)]
    chosen = [*(ItemisationSetting(before, omit) for _v, before, omit in changes), latest]
    return ItemisationHistory(tuple(zip(starts, chosen)))


def bill_itemisation_history(*, user, invoice_contractor_id: int | None) -> ItemisationHistory:
    """The settings of the bills of an invoice of `user`'s: those of the party it was issued to, the
    contractor it names or `user` as an individual. A User who joined or left a contractor since keeps each
    bill under the setting it had then, not under the one of their status today."""
    if invoice_contractor_id:
        return itemisation_history(contractor=invoice_contractor_id)
    return itemisation_history(user=user, individual=True)


def user_itemisation_get(*, user, period: date | None = None) -> str:
    """How `user`'s bills of `period` (default: the current billing period) are itemised (an `Itemisation`
    value): a Contractor's User gets the contractor's setting, read now (not from a contractor cached on the
    user); an individual their own. Not itemised when unknown (GDPR art. 25)."""
    history = itemisation_history(user=user)
    return (history.current() if period is None else history.at(period)).itemisation


# --- two-factor devices (the person's own; used by the sign-in pages) ------------------------------

def totp_device_pending(*, user: User):
    """The unconfirmed TOTP device of an enrolment in progress, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def two_factor_status(*, user: User) -> dict:
    """What the security page shows: is an authenticator set up, how many recovery codes are left."""
    return {
        "totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "recovery_codes_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
    }


def phone_number_period_free(*, number: str, valid_from: datetime, valid_to: datetime | None,
                             default_region: str = "NL", exclude_pk: int | None = None) -> bool:
    """Whether nobody holds `number` in [valid_from, valid_to) (through the blind index; reveals no holder).
    For forms that want to name the field before phone_number_assign refuses."""
    index = blind_index(normalize_e164(number, default_region), domain="phone")
    qs = PhoneNumber.objects.filter(number_index=index).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from))
    if valid_to is not None:
        qs = qs.filter(valid_from__lt=valid_to)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return not qs.exists()


def call_setup_token_list(*, actor, purpose: Purpose | str, user: User) -> QuerySet[CallSetupToken]:
    """A user's click-to-call tokens (never their text: only a digest is kept), newest first."""
    access_user(actor=actor, purpose=purpose, user_id=user.pk)
    return CallSetupToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def billing_address_get(*, actor, purpose: Purpose | str, user: User) -> BillingAddress | None:
    """The address `user`'s invoices are made out to (the Contractor's, for a Contractor's User), or
    None. SELF_SERVICE: only the one who manages it (services.billing_address); BILLING: the invoice run."""
    from .services.billing_address import billing_party, billing_party_managed_by

    kind, party_id = billing_party(user)
    purpose = require_purpose(actor=actor, purpose=purpose, action="billing_address.get", target_type=kind,
                              target_id=party_id)
    if purpose == Purpose.SELF_SERVICE and not (billing_party_managed_by(actor, user) or getattr(actor, "pk", None) == user.pk):
        raise Http404
    if purpose not in (Purpose.SELF_SERVICE, Purpose.BILLING):
        raise Http404
    return BillingAddress.objects.filter(**{f"{kind}_id": party_id}).first()


def billing_address_lines(address: BillingAddress) -> list[str]:
    """The address below the name, as an envelope (and an invoice) carries it."""
    lines = [f"{address.street} {address.house_number}", f"{address.postcode} {address.town}"]
    if address.country != "NL":
        lines.append(address.country)
    return lines
