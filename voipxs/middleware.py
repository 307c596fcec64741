"""RefuseNulMiddleware: a NUL byte in a request's path, query or form is a 400 naming the field, never a 500.

Response headers every page and API answer carries (issue 16: none had a Content-Security-Policy, and
pages with personal data could be kept by the browser's and any shared cache).

- Content-Security-Policy and Permissions-Policy from settings, on every response: no inline script
  runs anywhere, so an injected caller-ID text cannot become a script even where escaping failed.
- `Cache-Control: no-store` on every answer to a signed-in person (session or API token): call lists,
  invoices and exports are personal data, and a back button, a shared computer or a proxy must not
  keep them. A view that set its own Cache-Control keeps it.
"""
from __future__ import annotations

from typing import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from .bad_request import NulRefused, nul_refusal


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = settings.CONTENT_SECURITY_POLICY
        self.permissions = settings.PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", self.permissions)
        if "Cache-Control" not in response.headers and _personal(request):
            patch_cache_control(response, no_store=True, private=True)
        return response


def _personal(request: HttpRequest) -> bool:
    """Signed in by session (Django's user) or by API token (DRF sets the user on the request after the
    view ran, so the header is the sign there)."""
    if "Authorization" in request.headers:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class RefuseNulMiddleware:
    """A NUL byte in the path, a query or a posted form's text field is refused before the view reads it: 400 naming
    the field in Django's own words ("Null characters are not allowed."), on the site's 400 page, or as the API's JSON
    refusal under /api/ (voipxs.bad_request). PostgreSQL text cannot hold NUL, and pages that read posted text
    themselves (a token's name, the DPO's answer) failed with a 500 when it reached the database.

    Url-encoded forms are read at once. A multipart form (a browser sends one for any form with a file; the test
    client by default) is read just before the view, unless the view is csrf_exempt: such a view may set its own
    upload handlers first (support's proofs), which reading the body earlier would fix. Its text fields are checked
    whenever the body is read (request.POST), after those handlers ran. Uploaded files are not text fields: a NUL in
    a CDR file is the importer's to report by line. The API parses its bodies itself (DRF): its serializers' text
    fields refuse NUL."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_field(request)
        if field is not None:
            return nul_refusal(request, field)
        _check_posted_text_when_read(request)
        if request.method == "POST" and request.content_type == URLENCODED:
            try:
                request.POST
            except NulRefused as refused:
                return nul_refusal(request, refused.field)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs) -> HttpResponse | None:
        if request.method != "POST" or request.content_type != MULTIPART or getattr(view, "csrf_exempt", False):
            return None
        try:
            request.POST  # the CSRF check, next, reads it anyway
        except NulRefused as refused:
            return nul_refusal(request, refused.field)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A csrf_exempt view that read its multipart body (support's proofs)."""
        return nul_refusal(request, exception.field) if isinstance(exception, NulRefused) else None


URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _nul_field(request: HttpRequest) -> str | None:
    if "\x00" in request.path:
        return "path"
    return _nul_in(request.GET)


def _nul_in(data) -> str | None:
    for key, values in data.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key
    return None


def _check_posted_text_when_read(request: HttpRequest) -> None:
    """Wraps Django's reading of the body (request.POST, request.FILES): once read, a NUL in a text field raises
    NulRefused. Only text fields: request.FILES holds the uploads, never looked into."""
    load = request._load_post_and_files

    def load_and_check() -> None:
        load()
        field = _nul_in(request._post)
        if field is not None:
            request._mark_post_parse_error()  # read again, it is empty: the text never reaches a view
            raise NulRefused(field)

    request._load_post_and_files = load_and_check
