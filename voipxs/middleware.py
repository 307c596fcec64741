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
from django.core.validators import ProhibitNullCharactersValidator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import patch_cache_control


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
    """A NUL byte in the path, a query or a posted form field is refused before any view: 400 naming the field in
    Django's own words ("Null characters are not allowed."), JSON under /api/. PostgreSQL text cannot hold NUL, and
    pages that read posted text themselves (a token's name, the DPO's answer) failed with a 500 when it reached the
    database. Uploads and JSON bodies are not read here (their form and serializer fields refuse NUL themselves)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_field(request)
        if field is None:
            return self.get_response(request)
        name, message = field.replace("\x00", "\\0"), str(ProhibitNullCharactersValidator.message)
        if request.path.startswith("/api/"):
            return JsonResponse({name: [message]}, status=400)
        return HttpResponseBadRequest(f"{name}: {message}", content_type="text/plain; charset=utf-8")


# Not multipart: reading an upload here would fix its upload handlers before a view sets its own (support's proofs);
# an upload's text fields go through a form or serializer field, which refuses NUL itself.
FORM_TYPES = ("application/x-www-form-urlencoded",)


def _nul_field(request: HttpRequest) -> str | None:
    if "\x00" in request.path:
        return "path"
    forms = [request.GET]
    if request.method == "POST" and request.content_type in FORM_TYPES:
        forms.append(request.POST)
    for data in forms:
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return key
    return None
