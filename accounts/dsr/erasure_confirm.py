"""The page a customer confirms before erasing their data and closing their account (GDPR art. 17, views.create;
voipxs/confirm.py): the password is asked again on it, and a wrong one shows that page again, saying so at the
field, nothing done (the refusal is audited by the service, as on the security page: security_confirm.py)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from voipxs.confirm import confirmation_page


def erasure_confirmation(request: HttpRequest, errors: dict[str, str] | None = None) -> HttpResponse:
    """The page that asks before an erasure, the password asked again on it; `errors` a refusal at that field."""
    return confirmation_page(
        request, title=_("Erase your data and close your account?"),
        consequences=[
            _("Your account is closed at once: you are signed out and can no longer sign in, and your API "
              "tokens stop working."),
            _("Your login name, e-mail address and sign-in details are erased now, and everything else that "
              "the law does not make us keep; this cannot be undone."),
            _("What the law makes us keep (invoices for 7 years, calls of an unpaid or disputed invoice) is "
              "kept, restricted, until its period ends; the confirmation lists it."),
        ],
        action_label=_("Yes, erase my data and close my account"), cancel_url=reverse("accounts_dsr:mine"),
        secret_fields=[("password", _("Your password (needed for erasure)"))], errors=errors)
