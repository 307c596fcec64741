"""Response headers every page and API answer carries (issue 16: none had a Content-Security-Policy, and
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
