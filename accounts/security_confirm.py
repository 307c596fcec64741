"""The pages a customer confirms on "Sign-in and security" before a step that weakens their sign-in or cannot be
taken back (voipxs/confirm.py): turning two-factor sign-in off and replacing the recovery codes ask for the
password again on that page (the services check it); revoking a click-to-call token names the token."""
from __future__ import annotations

from typing import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from voipxs.confirm import confirmation_page, is_confirmed
from voipxs.exceptions import ApplicationError

from .models import CallSetupToken

PASSWORD = "password"


def two_factor_disable_page(request: HttpRequest, errors: dict[str, str] | None = None) -> HttpResponse:
    return confirmation_page(
        request, title=_("Turn two-factor sign-in off?"),
        consequences=[_("Your authenticator app and your recovery codes stop working at once: from then on your "
                        "password alone signs you in."),
                      _("To turn it on again, set up two-factor sign-in anew; you get new recovery codes then.")],
        action_label=_("Yes, turn two-factor sign-in off"), cancel_url=reverse("accounts:security"),
        secret_fields=[(PASSWORD, _("Your password"))], errors=errors)


def recovery_codes_page(request: HttpRequest, errors: dict[str, str] | None = None) -> HttpResponse:
    return confirmation_page(
        request, title=_("Make new recovery codes?"),
        consequences=[_("The recovery codes you have now stop working at once, also the copies you printed or "
                        "saved."),
                      _("The new codes are shown once, on the next page: write them down or save them somewhere "
                        "safe.")],
        action_label=_("Yes, make new recovery codes"), cancel_url=reverse("accounts:security"),
        secret_fields=[(PASSWORD, _("Your password"))], errors=errors)


def token_revoke_page(request: HttpRequest, token: CallSetupToken) -> HttpResponse:
    return confirmation_page(
        request, title=_("Revoke the token “%(name)s”?") % {"name": token.name},
        consequences=[_("The browser extension that uses this token (it starts with %(hint)s) can no longer set up "
                        "calls; a revoked token cannot be used again.") % {"hint": token.hint},
                      _("To use click-to-call in that browser again, make a new token and paste it into the "
                        "extension's options.")],
        action_label=_("Yes, revoke the token"), cancel_url=reverse("accounts:security") + "#click-to-call")


def with_password(request: HttpRequest, page: Callable[..., HttpResponse],
                  act: Callable[[str], HttpResponse]) -> HttpResponse:
    """The first POST answers with `page`; the confirmed one runs `act` with the password given again. A wrong
    password shows `page` again, saying so at the field, nothing done; another refusal goes back to the security
    page with its message."""
    if not is_confirmed(request):
        return page(request)
    try:
        return act(request.POST.get(PASSWORD, ""))
    except ApplicationError as exc:
        if exc.extra.get("field") == PASSWORD:
            return page(request, errors={PASSWORD: exc.shown()})
        messages.error(request, exc.shown())
        return redirect("accounts:security")
