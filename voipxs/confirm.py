"""A confirmation step before an irreversible or legally weighty action (issue 13): the first POST of
such an action answers with a page that names what will happen, carrying the same fields back with
`confirm=yes`; only that second POST acts. Server-side, because the CSP forbids inline script (no
`onclick="return confirm()"`), and so that an API client or a stray form cannot skip it on a page.

Secret fields (a password) are never echoed into the page: the confirmation page asks for them again, and a
refusal of one (a wrong password) is shown on the page again, at that field (`errors`), nothing done.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"
_NEVER_CARRIED = {"csrfmiddlewaretoken", CONFIRM_FIELD}


def is_confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == CONFIRM_VALUE


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: Iterable[str],
    action_label: str,
    cancel_url: str,
    secret_fields: Iterable[tuple[str, str]] = (),
    errors: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The page that asks. `consequences` are sentences naming what will happen; `secret_fields` are
    (name, label) pairs asked again on the page instead of being carried in hidden inputs; `errors` the
    refusals (shown text) by secret field, which make the page answer 400."""
    errors = errors or {}
    secrets = [{"name": name, "label": label, "error": errors.get(name, "")} for name, label in secret_fields]
    skip = _NEVER_CARRIED | {secret["name"] for secret in secrets}
    carried = [(name, value) for name, values in request.POST.lists() if name not in skip for value in values]
    return render(request, "partials/confirm.html", {
        "title": title, "consequences": list(consequences), "action_label": action_label,
        "cancel_url": cancel_url, "carried": carried, "secrets": secrets, "action_url": request.get_full_path(),
        "confirm_field": CONFIRM_FIELD, "confirm_value": CONFIRM_VALUE,
    }, status=400 if errors else 200)
