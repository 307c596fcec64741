"""The notice of a substantive privacy-policy change on every portal page, and the version history."""
from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from voipxs.views import policy_blocks

from .policy import policy_current, policy_history, policy_notice_for


def policy_notice(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    on_policy_page = request.path == reverse("privacy-policy")
    blocks = SimpleLazyObject(lambda: _current_blocks() if on_policy_page else [])
    # Lazy: a page that does not render the notice (API, JSON) costs no query.
    return {
        "policy_notice": SimpleLazyObject(lambda: None if on_policy_page else policy_notice_for(user=user)),
        "policy_versions": SimpleLazyObject(lambda: policy_history() if on_policy_page else []),
        # The published text of the newest version (the page falls back to the file it was seeded from).
        "policy_current_blocks": blocks,
        "policy_current_headings": SimpleLazyObject(lambda: [b for b in blocks if b["kind"] == "heading"]),
    }


def _current_blocks() -> list[dict]:
    current = policy_current()
    return policy_blocks(current.text) if current is not None and current.text.strip() else []
