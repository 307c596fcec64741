"""The site's 400 answer: a request that cannot be read (a NUL byte in a field, too many fields, a body past the
limit) gets the site's page, in the page's language and with its layout (templates/400.html), or under /api/ the
API's JSON refusal shaped as DRF's own (`{"field": ["message"]}`, or `{"detail": "..."}`). Never a stack trace, never
the value that was refused: only the field's name.

handler400 (voipxs/urls.py) for Django's own refusals (SuspiciousOperation); RefuseNulMiddleware for a NUL byte."""
from __future__ import annotations

from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.core.validators import ProhibitNullCharactersValidator
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.functional import SimpleLazyObject
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer

# Answered in JSON: the API, and a switch's CDR push (voipxs.wsgi.PUSH_PATH), whose lean handler has no session and
# none of the site's routes, so no page can be drawn there (a foreign Host header is refused there too).
JSON_PATHS = ("/api/", "/calls/push/")


class NulRefused(SuspiciousOperation):
    """A NUL byte in a posted field, found where the body was read (a view's, a form's or the CSRF check's first
    look at request.POST). A SuspiciousOperation, so that wherever it is raised Django answers 400 (handler400),
    never 500; RefuseNulMiddleware answers it itself where it can. Its text is the field's name, never the value."""

    def __init__(self, field: str) -> None:
        super().__init__(f"NUL byte in the posted field {shown_name(field)}")
        self.field = field


def shown_name(field: str) -> str:
    """A field's name as it may be shown: a NUL in the name itself is written \\0."""
    return field.replace("\x00", "\\0")


def nul_refusal(request: HttpRequest, field: str) -> HttpResponse:
    """400 naming `field`, in Django's words for it ("Null characters are not allowed.")."""
    return refusal(request, field=shown_name(field), message=str(ProhibitNullCharactersValidator.message))


def refusal(request: HttpRequest, *, field: str | None = None, message: str | None = None) -> HttpResponse:
    if request.path.startswith(JSON_PATHS):
        data = {field: [message]} if field else {"detail": str(ParseError.default_detail)}
        # DRF's renderer: the same bytes as the API's other 400s.
        return HttpResponse(JSONRenderer().render(data), status=400, content_type="application/json")
    if not hasattr(request, "user") and hasattr(request, "session"):
        # Refused before the sign-in middleware ran: the page still shows who is signed in, as every page does.
        request.user = SimpleLazyObject(lambda: auth.get_user(request))
    page = loader.get_template("400.html").render({"field": field, "message": message}, request)
    return HttpResponse(page, status=400)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400. The exception's text is not shown: Django's may quote what was sent (a host name)."""
    if isinstance(exception, NulRefused):
        return nul_refusal(request, exception.field)
    return refusal(request)
