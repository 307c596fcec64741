"""settings.CSRF_FAILURE_VIEW: a form sent without a valid security token (a page left open past its session,
cookies blocked, a post forged on another site) is refused with 403 as Django refuses it, on the site's own page
(templates/403.html) in the person's language, saying what to do; Django's own page is bare English about "CSRF
verification". Django's reason is not shown: it names the check, not anything the person can act on. The API's
views answer their own refusal (DRF, JSON) and never reach this."""
from __future__ import annotations

from django.contrib import auth
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext

from .bad_request import JSON_PATHS


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    message = gettext("This form could not be accepted: its security check has expired or your browser did not send "
                      "it (cookies must be allowed for this site). Go back, reload the page and send the form again.")
    if request.path.startswith(JSON_PATHS):
        return JsonResponse({"detail": message}, status=403)
    if not hasattr(request, "user") and hasattr(request, "session"):
        request.user = SimpleLazyObject(lambda: auth.get_user(request))
    return HttpResponse(loader.get_template("403.html").render({"message": message}, request), status=403)
