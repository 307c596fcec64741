"""The notice of a substantive privacy-policy change on every portal page, and the version history; the DPO's count
of recipients still to tell (GDPR art. 19) for the DPO's home page."""
from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from voipxs.privacy.purposes import Role, has_role
from voipxs.views import policy_text_shown

from .policy import policy_current, policy_history, policy_notice_for
from .recipients import recipient_notifications_pending_count


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
        **dpo_recipients_pending(request),  # accounts' one context processor (settings.TEMPLATES)
    }


def _current_text() -> dict:
    current = policy_current()
    if current is None or not current.text.strip():
        return {}
    return policy_text_shown({"en": current.text, "nl": current.text_nl})


def dpo_recipients_pending(request: HttpRequest) -> dict:
    """`dpo_recipients_pending`: how many recipients are listed and not yet recorded as told (GDPR art. 19), for the
    DPO only (0 for anyone else). Lazy: counted, and the read recorded, only by a page that shows it (the DPO's home
    page; the home view lives in the kernel's package, which imports no app)."""
    user = getattr(request, "user", None)
    return {"dpo_recipients_pending": SimpleLazyObject(
        lambda: {"count": recipient_notifications_pending_count(actor=user) if has_role(user, Role.DPO) else 0})}
