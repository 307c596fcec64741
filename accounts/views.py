"""Portal pages of accounts: own numbers (with number masking and itemised bills), the invoice address, the
security page, two-factor verification and enrolment, recovery codes, the language switch. Sign-in, sign-out and
passwords use Django's views with our forms (accounts/urls.py)."""
from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import get_language_info, gettext_lazy, gettext_noop
from django.views.i18n import LANGUAGE_QUERY_PARAMETER, set_language
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login

from voipxs.bad_request import refusal
from voipxs.confirm import is_confirmed
from voipxs.exceptions import ApplicationError
from voipxs.post_only import post_only
from voipxs.ratelimit import client_ip, rate_limit_exceeded
from voipxs.privacy.purposes import Purpose, purposes_of

from . import security_confirm, selectors
from .forms import OTP_TOKEN_INVALID, OTP_TOKEN_THROTTLED, BillingAddressForm, ItemisationForm, OtpTokenForm
from .middleware import is_staff_account, needs_second_factor
from .selectors import phone_number_list
from .services import billing_address, call_setup_tokens, sign_in, users


@login_required
def my_numbers(request: HttpRequest, *, itemisation_form: ItemisationForm | None = None,
               status: int = 200) -> HttpResponse:
    """Own numbers, and the settings on them: masking on other people's bills, itemised bills."""
    user = request.user
    numbers = phone_number_list(actor=user, purpose=Purpose.SELF_SERVICE, user=user)
    history = selectors.itemisation_history(user=user)
    current, pending = history.current(), history.pending()
    chosen = pending[1] if pending else current  # the form shows the latest choice, pending or not
    return render(request, "accounts/numbers.html", {
        "numbers": numbers, "by_contractor": bool(user.contractor_id), "itemisation": current,
        "pending": pending and {"from": pending[0], "setting": pending[1]},
        "itemisation_form": itemisation_form or ItemisationForm(initial={
            "itemisation": chosen.itemisation, "list_free_numbers": not chosen.omit_free_numbers}),
    }, status=status)


# A tampered form (the page offers only these two): answered on the site's 400 page, in the reader's language.
MASKING_CHOICE_INVALID = gettext_noop("Choose 1 (masked) or 0 (shown in full).")


@login_required
@post_only("accounts:numbers", anchor="masking")
def my_number_masking(request: HttpRequest) -> HttpResponse:
    """The user's own request to be masked on other people's bills (Bude art. 4.2), or its withdrawal."""
    if request.POST.get("masked") not in ("0", "1"):
        return refusal(request, field="masked", message=_(MASKING_CHOICE_INVALID))
    masked = request.POST["masked"] == "1"
    users.user_number_masking_set(user=request.user, masked=masked)
    messages.success(request, _("Your number is now masked on other people's bills.") if masked
                     else _("Your number shows in full on other people's bills again."))
    return redirect(reverse("accounts:numbers") + "#masking")


@login_required
@post_only("accounts:numbers", anchor="itemisation")
def my_itemisation(request: HttpRequest) -> HttpResponse:
    """An individual subscriber's choice of itemised bills (ePrivacy art. 7); a Contractor's User has the
    contractor's and cannot choose."""
    if request.user.contractor_id:
        return render(request, "403.html", {"message": _(users.ITEMISATION_BY_CONTRACTOR)}, status=403)
    form = ItemisationForm(request.POST)
    if not form.is_valid():
        return my_numbers(request, itemisation_form=form, status=400)
    users.user_itemisation_set(user=request.user, **form.service_arguments())
    pending = selectors.itemisation_history(user=request.user).pending()
    if pending:
        messages.success(request, _("Your choice of itemised bills is saved. It applies to your bills from %(month)s "
                                    "on; the bills of earlier months stay as they were.")
                         % {"month": date_format(pending[0], "YEAR_MONTH_FORMAT")})
    else:
        messages.success(request, _("Your choice of itemised bills is saved. Your bills stay as they are."))
    return redirect(reverse("accounts:numbers") + "#itemisation")


def language_set(request: HttpRequest) -> HttpResponse:
    """The footer's language switch (accounts/i18n_urls.py, the name `set_language`): Django's view sets the
    cookie and goes back; a signed-in person's choice is also kept on their account, for the e-mails to them."""
    response = set_language(request)
    language = request.POST.get(LANGUAGE_QUERY_PARAMETER, "") if request.method == "POST" else ""
    if request.user.is_authenticated and language in {code for code, _name in settings.LANGUAGES}:
        users.user_language_set(user=request.user, language=language)
    return response


class SignInView(auth_views.LoginView):
    """Django's sign-in (it hands the request to authenticate(), so django-axes sees every attempt), which also
    puts the site in the language the person chose before, on whatever device they sign in from."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        language = form.get_user().language
        if language in {code for code, _name in settings.LANGUAGES}:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response


@login_required
def billing_address_edit(request: HttpRequest) -> HttpResponse:
    """The name and address the user's invoices are made out to. A Contractor's User sees the
    Contractor's (its admin changes it); everyone else sets their own."""
    user = request.user
    may_change = billing_address.billing_party_managed_by(user, user)
    address = selectors.billing_address_get(actor=user, purpose=Purpose.SELF_SERVICE, user=user)
    initial = {f: getattr(address, f) for f in billing_address.FIELDS} if address else None
    form = BillingAddressForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if not may_change:
            return HttpResponse(str(billing_address.ONLY_CONTRACTOR_ADMIN), status=403,
                                content_type="text/plain; charset=utf-8")
        if form.is_valid():
            billing_address.billing_address_set(actor=user, user=user, **form.cleaned_data)
            messages.success(request, _("Your next invoices are made out to this name and address. Invoices "
                                        "already issued keep the address they were issued with."))
            return redirect("accounts:billing-address")
    return render(request, "accounts/billing_address.html", {
        "form": form, "address": address, "may_change": may_change,
        "lines": selectors.billing_address_lines(address) if address else [],
    }, status=400 if form.errors else 200)


def _next_url(request: HttpRequest) -> str:
    """Where to go after the second factor: `next` if it is ours, else home."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse("home")


def _throttled(user) -> bool:
    return any(not device.verify_is_allowed()[0] for device in devices_for_user(user))


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Ask for a TOTP or recovery code and mark the session verified (django_otp.login)."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user):
        return redirect(f"{reverse('accounts:two-factor-setup')}?next={_next_url(request)}")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Every wrong code increases django-otp's back-off on the device (1, 2, 4, 8 … seconds). Whether
        # the back-off was already running is asked before the check: the first wrong code starts it,
        # and it is only "too many" for a code that arrives while it runs.
        throttled_before = _throttled(user)
        device = sign_in.two_factor_check(user=user, token=form.cleaned_data["otp_token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("otp_token", OTP_TOKEN_THROTTLED if throttled_before else OTP_TOKEN_INVALID)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)},
                  status=200 if not form.errors else 400)


def _qr_svg(text: str) -> str:
    """The enrolment URL as an inline SVG QR code, drawn here (no external service ever sees the secret)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the secret (base32) and a QR code, confirm with one code,
    then show ten recovery codes once. Someone who already has a device must pass it first."""
    user = request.user
    if user_has_device(user) and not user.is_verified():
        return redirect(f"{reverse('accounts:two-factor')}?next={_next_url(request)}")
    device = selectors.totp_device_pending(user=user)
    if device is None or request.POST.get("restart"):
        device = sign_in.totp_device_start(user=user)
    form = OtpTokenForm(request.POST if request.method == "POST" and not request.POST.get("restart") else None)
    if form.is_bound and form.is_valid():
        if sign_in.totp_device_confirm(device=device, token=form.cleaned_data["otp_token"]):
            otp_login(request, device)
            codes = sign_in.recovery_codes_regenerate(user=user)
            return render(request, "accounts/recovery_codes.html",
                          {"codes": codes, "fresh_enrolment": True, "next": _next_url(request)})
        form.add_error("otp_token", OTP_TOKEN_INVALID)
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "secret": secret,
        "secret_groups": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        # Reviewed: the SVG is drawn by qrcode from our own otpauth URI (modules, no text from anyone).
        "qr_svg": mark_safe(_qr_svg(device.config_url)),  # nosec B308 B703
        "next": _next_url(request),
        "is_staff": is_staff_account(user),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=400 if form.errors else 200)


# The session key under which a new click-to-call token's text waits for the one page that shows it.
NEW_TOKEN_SESSION_KEY = "call_setup_token_new"


@login_required
def security(request: HttpRequest, *, token_error: str = "", status: int = 200) -> HttpResponse:
    """Password, two-factor settings, click-to-call tokens and the language of e-mails (behind the second
    factor: the middleware sees to it). A new token's text is shown here once, on the first page after it was
    made (post/redirect/get: it waits in the session, taken out by that page, so a reload neither resends the form
    nor shows it again)."""
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, "") if request.method == "GET" else ""
    two_factor = selectors.two_factor_status(user=request.user)
    click_to_call = Purpose.CALL_SETUP in purposes_of(request.user)
    tokens = selectors.call_setup_token_list(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user) \
        if click_to_call else []
    return render(request, "accounts/security.html", {
        **two_factor, "is_staff": is_staff_account(request.user), "owes_second_factor": needs_second_factor(request.user),
        "click_to_call": click_to_call, "call_setup_tokens": tokens, "new_token": new_token, "token_error": token_error,
        "mail_language": get_language_info(request.user.language or settings.LANGUAGE_CODE)["name_translated"],
    }, status=status)


@login_required
@post_only("accounts:security", anchor="click-to-call")
def call_setup_token_create(request: HttpRequest) -> HttpResponse:
    if Purpose.CALL_SETUP not in purposes_of(request.user):
        raise PermissionDenied
    try:
        _token, text = call_setup_tokens.call_setup_token_create(user=request.user, name=request.POST.get("name", ""))
    except ApplicationError as exc:
        return security(request, token_error=exc.shown(), status=400)
    request.session[NEW_TOKEN_SESSION_KEY] = text
    return redirect(reverse("accounts:security") + "#click-to-call")


@login_required
@post_only("accounts:security", anchor="click-to-call")
def call_setup_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = selectors.call_setup_token_list(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user) \
        .filter(pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise Http404
    if not is_confirmed(request):
        return security_confirm.token_revoke_page(request, token)
    if call_setup_tokens.call_setup_token_revoke(user=request.user, token_id=token_id) is None:
        raise Http404
    messages.success(request, _("The token “%(name)s” is revoked: the extension that used it can no longer set up "
                                "calls.") % {"name": token.name})
    return redirect(reverse("accounts:security") + "#click-to-call")


@login_required
@post_only("accounts:security")
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    if not user_has_device(request.user):
        return redirect("accounts:two-factor-setup")

    def replace(password: str) -> HttpResponse:
        codes = sign_in.recovery_codes_replace(user=request.user, password=password)
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "fresh_enrolment": False,
                                                                 "next": reverse("accounts:security")})
    return security_confirm.with_password(request, security_confirm.recovery_codes_page, replace)


@login_required
@post_only("accounts:security")
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    try:
        sign_in.two_factor_disable_check(user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.shown())
        return redirect("accounts:security")

    def disable(password: str) -> HttpResponse:
        sign_in.two_factor_disable(user=request.user, password=password)
        messages.success(request, _("Two-factor sign-in is off for your account."))
        return redirect("accounts:security")
    return security_confirm.with_password(request, security_confirm.two_factor_disable_page, disable)


# A reset link is a mail sent on an anonymous request: without a limit, anyone could have the site mail
# an address dozens of times a second. Both limits answer the same whether the address has an account.
RESET_PER_ADDRESS = (3, 60 * 60)  # mails to one address per hour
RESET_PER_CLIENT = (10, 60 * 60)  # requests from one client address per hour
RESET_TOO_MANY = gettext_lazy("Too many password-reset requests. Wait an hour and try again, or contact support.")


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        address = form.cleaned_data["email"].strip().lower()
        over = [
            rate_limit_exceeded(scope="reset-client", key=client_ip(self.request), limit=RESET_PER_CLIENT[0],
                                window_seconds=RESET_PER_CLIENT[1]),
            rate_limit_exceeded(scope="reset-address", key=address, limit=RESET_PER_ADDRESS[0],
                                window_seconds=RESET_PER_ADDRESS[1]),
        ]
        if any(over):
            form.add_error("email", RESET_TOO_MANY)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)
