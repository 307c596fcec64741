"""The notice of a substantive privacy-policy change on every portal page, and the version history."""
from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from voipxs.views import policy_text_shown

from .policy import policy_current, policy_history, policy_notice_for


def policy_notice(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    on_policy_page = request.path == reverse("privacy-policy")
    # Lazy: a page that does not render the notice (API, JSON) costs no query.
    return {
        "policy_notice": SimpleLazyObject(lambda: None if on_policy_page else policy_notice_for(user=user)),
        "policy_versions": SimpleLazyObject(lambda: policy_history() if on_policy_page else []),
        # The published text of the newest version in the reader's language where it has one, else in English:
        # {"blocks", "headings", "lang"} (the page falls back to the files it was seeded from).
        "policy_current_text": SimpleLazyObject(lambda: _current_text() if on_policy_page else {}),
    }


def _current_text() -> dict:
    current = policy_current()
    if current is None or not current.text.strip():
        return {}
    return policy_text_shown({"en": current.text, "nl": current.text_nl})
