"""Every route of the project as concrete requests, and what an answer means for authorization.

`routes()` walks the root URLconf's resolver recursively (portal pages, the DRF API under /api/v1/, the
Django admin with every registered ModelAdmin and its own URLs) and names each route by its URL name, or
by its pattern where it has none. A route with a choice in its path that decides who may use it is one
row per choice: the admin's app index per app, the legal officers' page steps per row of
disclosures.transitions.TRANSITIONS. Every id in a path is another person's object from the seeded
world (tests/authz/world.py); a route whose id has no kind here fails the walk with its name.

`verdict()` turns the final answer (redirects within the site followed) into the table's words: "allow"
(2xx, or a 4xx that is not about who asks, such as 400 for an empty form: the request got past
authorization), "deny" (401, 403, 404, or a redirect to a sign-in page) and "405" (the route does not
take the method).
"""
from __future__ import annotations

import re
from base64 import urlsafe_b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from accounts.models import User
from disclosures.transitions import TRANSITIONS

from .world import World

METHODS = ("GET", "POST")
ALLOW, DENY, NO_METHOD = "allow", "deny", "405"
SIGN_IN_PAGES = ("/accounts/login/", "/admin/login/")
NOT_ABOUT_WHO = {400, 409, 410, 422, 429}

# The kind of object a `<int:pk>` stands for, by URL name (names starting "disclosures:" or
# "disclosure-" are the disclosure request unless listed).
PK_KINDS = {
    "retention:hold-release": "hold", "retention-hold-release": "hold",
    "disclosures:authority-verify": "authority", "disclosure-authority-verify": "authority",
    "disclosures:authority-domains": "authority", "disclosure-authority-domains": "authority",
    "disclosures:authority-certificate": "authority", "disclosures:authority-certificate-confirm": "authority",
    "disclosures:authority-certificate-discard": "authority", "disclosure-authority-certificate": "authority",
    "disclosure-authority-certificate-confirm": "authority", "disclosure-authority-certificate-discard": "authority",
    "disclosures:authority-domains-confirm": "authority", "disclosures:authority-domains-discard": "authority",
    "disclosure-authority-domains-confirm": "authority", "disclosure-authority-domains-discard": "authority",
    "accounts_dsr:download": "export", "api-me-export-download": "export",
    "accounts_dsr:dpo-request": "dsr", "accounts_dsr:dpo-representative-proof": "dsr_proof", "accounts_dsr:dpo-breach": "breach",
    "api-staff-account-close": "user", "api-staff-contractor-close": "contractor",
    "support:customer": "customer", "support:unlock": "customer", "support:two-factor-reset": "customer",
    "support:open-request": "customer", "support:itemisation": "customer", "traffic:staff-call-note-add": "dsr",
    "accounts_dsr:dpo-restriction-end": "restriction", "accounts_dsr:dpo-objection": "objection_dsr",
    "accounts_dsr:dpo-recipient-notified": "recipient_request",
}
# Other path parameters, by name: the id kind in World.ids, or a fixed value.
PARAM_KINDS = {"invoice_id": "invoice", "import_id": "import", "export_id": "call_export", "category": "category",
               "id": "user", "token_id": "call_setup_token", "prefix_id": "blocked_prefix",
               "tariff_id": "tariff", "notification_pk": "recipient_notification"}
# A slug that picks an action: the one value walked (every value passes the same role check first).
ACTION_VALUES = {"traffic:staff-invoice-action": "paid"}


@dataclass(frozen=True)
class Route:
    key: str  # the table's row name
    path: str  # a concrete path with other people's ids


def _named_groups(regex: str) -> list[tuple[str, str]]:
    return re.findall(r"\(\?P<(\w+)>([^)]*)\)", regex)


def _fill(text: str, values: dict[str, str]) -> str:
    """Put `values` into a route (`<int:pk>`) or regex (`(?P<pk>...)`) pattern string."""
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], text)
    return text.replace("^", "").replace("$", "").replace("\\", "")


def _patterns(patterns=None, parts: tuple[str, ...] = (), namespace: str = "") -> Iterator[tuple]:
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        text = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, (*parts, text), ns)
        elif isinstance(entry, URLPattern):
            yield (*parts, text), (f"{namespace}{entry.name}" if entry.name else None), entry


def _pk_kind(name: str | None) -> str | None:
    if name in PK_KINDS:
        return PK_KINDS[name]
    if name and name.startswith(("disclosures:", "disclosure-")):
        return "disclosure"
    return None


def _value(param: str, *, name: str | None, entry: URLPattern, world: World) -> str:
    kind = _pk_kind(name) if param == "pk" else PARAM_KINDS.get(param)
    if kind is not None:
        return str(world.ids[kind])
    if name == "admin:view_on_site":  # "view on site" of mallory's user row
        return str(ContentType.objects.get_for_model(User).pk if param == "content_type_id" else world.ids["user"])
    if param == "object_id":
        return str(world.admin_objects[entry.callback.model_admin.model].pk)
    if param == "action" and name in ACTION_VALUES:
        return ACTION_VALUES[name]
    if param == "uidb64":
        return urlsafe_b64encode(str(world.ids["user"]).encode()).decode().rstrip("=")
    if param == "token":
        return "not-a-valid-token"
    if param == "url":
        return "no-such-page/"
    raise KeyError(param)


def _choices(route_text: str, name: str | None) -> dict[str, list[str]]:
    """Path parameters walked once per value: a regex alternation (the admin's app index) and the
    legal officers' page steps."""
    choices = {param: body.split("|") for param, body in _named_groups(route_text) if re.fullmatch(r"[\w|]+", body)}
    if name == "disclosures:transition":
        choices["action"] = list(TRANSITIONS)
    return choices


def routes(*, world: World) -> list[Route]:
    """Every route of the root URLconf as concrete paths; raises naming the route whose id has no kind."""
    found: list[Route] = []
    for parts, name, entry in _patterns():
        route_text = "".join(parts)
        params = [p for p, _body in _named_groups(route_text)]
        params += re.findall(r"<(?:\w+:)?(\w+)>", re.sub(r"\(\?P<\w+>", "(", route_text))
        choices = _choices(route_text, name)
        fixed: dict[str, str] = {}
        for param in params:
            if param in choices:
                continue
            try:
                fixed[param] = _value(param, name=name, entry=entry, world=world)
            except (KeyError, AttributeError):
                raise AssertionError(f"route {name or route_text!r}: no object for <{param}>; give it a kind in "
                                     "tests/authz/walk.py (PK_KINDS, PARAM_KINDS) and seed one in world.py") from None
        found += _expand(name or route_text, parts, fixed, choices, entry)
    return found


def _expand(key: str, parts: tuple[str, ...], fixed: dict[str, str], choices: dict[str, list[str]],
            entry: URLPattern) -> list[Route]:
    if not choices:
        return [_checked(Route(key, "/" + "".join(_fill(p, fixed) for p in parts)), entry)]
    param, values = next(iter(choices.items()))
    rest = {k: v for k, v in choices.items() if k != param}
    out: list[Route] = []
    for value in values:
        out += _expand(f"{key}[{value}]", parts, {**fixed, param: value}, rest, entry)
    return out


def _checked(route: Route, entry: URLPattern) -> Route:
    match = resolve(route.path)
    assert match.func == entry.callback, f"{route.path} resolves to {match.view_name}, not to {route.key}"
    return route


def redirect_target(response: Any) -> str | None:
    """Where a redirect within the site leads (to be followed: an old admin URL redirects to a page
    that may refuse), or None for a final answer, a redirect to a sign-in page among them."""
    if not 300 <= response.status_code < 400:
        return None
    target = response.get("Location", "")
    return None if urlsplit(target).path.startswith(SIGN_IN_PAGES) else target


def verdict(response: Any) -> str:
    """The verdict of a final answer (see redirect_target)."""
    code = response.status_code
    if code == 405:
        return NO_METHOD
    if 200 <= code < 300:
        return ALLOW
    if 300 <= code < 400:
        return DENY if redirect_target(response) is None else "error: redirects without end"
    if code in NOT_ABOUT_WHO:
        return ALLOW
    if code in (401, 403, 404):
        return DENY
    return f"error {code}"  # a server error is in no cell: reported with the route
