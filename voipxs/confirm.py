"""A confirmation step before an irreversible or legally weighty action (issue 13): the first POST of
such an action answers with a page that names what will happen, carrying the same fields back with
`confirm=yes`; only that second POST acts. Server-side, because the CSP forbids inline script (no
`onclick="return confirm()"`), and so that an API client or a stray form cannot skip it on a page.

Secret fields (a password) are never echoed into the page: the confirmation page asks for them again, and a
refusal of one (a wrong password) is shown on the page again, at that field (`errors`), nothing done.

"Cancel, change nothing" is a link: it drops what was typed. A view that can show its form again, bound to what
was sent, passes `edit_anchor` (the id of the form's heading); the page then also offers "Go back and change", a
POST of the same fields with `confirm=edit` (`is_edit`), which the view answers with its form filled in, acting on
nothing and refusing nothing. Secret fields are not carried back: the form asks for them again.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"
EDIT_VALUE = "edit"
_NEVER_CARRIED = {"csrfmiddlewaretoken", CONFIRM_FIELD}


def is_confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == CONFIRM_VALUE and not is_edit(request)


def is_edit(request: HttpRequest) -> bool:
    """"Go back and change" was pressed: show the form again as sent, do nothing. The button's `confirm=edit`
    comes with the page's hidden `confirm=yes`, and wins over it."""
    return request.method == "POST" and EDIT_VALUE in request.POST.getlist(CONFIRM_FIELD)


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    consequences: Iterable[str],
    action_label: str,
    cancel_url: str,
    secret_fields: Iterable[tuple[str, str]] = (),
    errors: Mapping[str, str] | None = None,
    edit_anchor: str | None = None,
) -> HttpResponse:
    """The page that asks. `consequences` are sentences naming what will happen; `secret_fields` are
    (name, label) pairs asked again on the page instead of being carried in hidden inputs; `errors` the
    refusals (shown text) by secret field, which make the page answer 400; `edit_anchor`, for a view that
    answers `is_edit` with its form filled in: the id on that page to return to ("Go back and change")."""
    errors = errors or {}
    secrets = [{"name": name, "label": label, "error": errors.get(name, "")} for name, label in secret_fields]
    skip = _NEVER_CARRIED | {secret["name"] for secret in secrets}
    action_url = request.get_full_path()
    edit_url = None if edit_anchor is None else f"{action_url}#{edit_anchor}" if edit_anchor else action_url
    carried = [(name, value) for name, values in request.POST.lists() if name not in skip for value in values]
    return render(request, "partials/confirm.html", {
        "title": title, "consequences": list(consequences), "action_label": action_label,
        "cancel_url": cancel_url, "carried": carried, "secrets": secrets, "action_url": action_url,
        "edit_url": edit_url, "confirm_field": CONFIRM_FIELD, "confirm_value": CONFIRM_VALUE, "edit_value": EDIT_VALUE,
    }, status=400 if errors else 200)
