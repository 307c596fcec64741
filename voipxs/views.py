from __future__ import annotations

import re
import sys
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .ops import ops_status
from .privacy.purposes import PURPOSES, Purpose, Role, roles_of
from .privacy.purposes_nl import register_cell
from .privacy.registry import retention_policies

POLICY_FILE = Path(__file__).resolve().parent / "privacy-policy.txt"
# The seed text in Dutch (accounts migration 0029 gives it to the seeded version); the page falls back to both.
POLICY_FILE_NL = POLICY_FILE.with_name("privacy-policy.nl.txt")
_HEADING = re.compile(r"^(?:Article|Artikel) (\d+)\b")  # English and Dutch headings: one anchor, article-N

# Most specific role first: a person with several roles lands on the first matching home.
_HOME_ORDER = [Role.ADMIN, Role.DPO, Role.LEGAL_OFFICER, Role.BILLING, Role.SUPPORT, Role.NOC, Role.FRAUD,
               Role.CONTRACTOR_ADMIN, Role.CUSTOMER]


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "voipxs/welcome.html")
    roles = roles_of(request.user)
    role = next((r for r in _HOME_ORDER if r in roles), Role.CUSTOMER)
    # One page for every role; each role's links are its own part, templates/voipxs/home/<role>.html.
    context = {"role": role, "role_label": Role(role).label, "links_template": f"voipxs/home/{role}.html"}
    if roles & {Role.DPO, Role.ADMIN}:  # what must be seen even with beat (and its alert mails) stopped
        context["ops"] = ops_status()
    return render(request, "voipxs/home.html", context)


def policy_blocks(text: str) -> list[dict]:
    """Turn the plain-text policy into headings (with anchors), paragraphs and bullet lists."""
    blocks: list[dict] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("•"):
            if not blocks or blocks[-1]["kind"] != "list":
                blocks.append({"kind": "list", "items": []})
            blocks[-1]["items"].append(line.lstrip("• ").strip())
        elif heading := _HEADING.match(line):
            blocks.append({"kind": "heading", "text": line, "anchor": f"article-{heading.group(1)}"})
        else:
            blocks.append({"kind": "paragraph", "text": line})
    return blocks


def _reader_language() -> str:
    """The page's language without its region ("nl" for "nl-nl")."""
    return (get_language() or "en").split("-")[0]


def policy_text_shown(texts: dict[str, str]) -> dict:
    """The policy's text in the reader's language where there is one (`texts`: language -> text, "en" the
    original), else in English: its blocks, headings and the language it is in (the page marks it `lang`)."""
    language = _reader_language()
    lang = language if (texts.get(language) or "").strip() else "en"
    blocks = policy_blocks(texts.get(lang) or "")
    return {"blocks": blocks, "headings": [b for b in blocks if b["kind"] == "heading"], "lang": lang}


def privacy_policy(request: HttpRequest) -> HttpResponse:
    # The files the versions were seeded from, shown where no version is published (accounts' context
    # processor gives the page the published one as `policy_current_text`).
    files = {"en": POLICY_FILE.read_text(encoding="utf-8"), "nl": POLICY_FILE_NL.read_text(encoding="utf-8")}
    return render(request, "voipxs/privacy_policy.html", {"policy_file_text": policy_text_shown(files),
                                                          **policy_generated_parts()})


def policy_generated_parts() -> dict:
    """The parts of the public page that are not typed in: every purpose the code uses (the same table as
    the processing register) and the retention period of every category from the policies in force
    (GDPR art. 13; Tw art. 11.5(4)). A policy change shows here at once."""
    # The register's texts stay English in PURPOSES (the DPIA's fingerprint reads them); each cell is shown in
    # the reader's language where it has its translation (purposes_nl), else in English, marked lang="en".
    language = _reader_language()
    purposes = [{"key": p.value, "name": p.label, "description": register_cell(PURPOSES[p].description, language),
                 "legal_basis": register_cell(PURPOSES[p].legal_basis, language),
                 "recipients": register_cell(PURPOSES[p].recipients, language)} for p in Purpose]
    return {"policy_purposes": purposes, "policy_retention": retention_policies()}


@never_cache
@require_GET
@transaction.non_atomic_requests  # ATOMIC_REQUESTS would open the transaction, and fail, before the probe runs
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker state for load balancers and monitoring. Never raises."""
    status = {"database": "ok", "broker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - report, do not crash the probe
        status["database"] = "down"
    if not settings.REDIS_URL:
        status["broker"] = "in-process"
    else:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        except Exception:  # noqa: BLE001
            status["broker"] = "down"
    if status["database"] == "ok":
        status.update(_ops_fields())
    healthy = status["database"] == "ok" and status["broker"] != "down"
    return JsonResponse({"status": "ok" if healthy else "degraded", **status}, status=200 if healthy else 503)


def _ops_fields() -> dict:
    """Monitoring's view of what the staff home page warns about; fields only, the probe's status stays the
    database's and the broker's (a stale CIOT sync must not take the site out of a load balancer)."""
    try:
        ops = ops_status()
    except Exception:  # noqa: BLE001 - report, do not crash the probe
        return {"ops": "unknown"}
    return {"ciot_sync": "stale" if ops.ciot_stale_since else "ok",
            "periodic_jobs": "late" if ops.beat_late else "ok" if ops.beat_checked else "in-process",
            "mail_owed": ops.mail_owed}


# A database restart or failover: the request stored nothing (ATOMIC_REQUESTS rolled it back) and can be
# sent again in a moment. OperationalError also covers a lost connection or a lock timeout; InterfaceError
# a connection that was already closed.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
UNAVAILABLE_DETAIL = "The service is temporarily unavailable. Please try again in a moment."
RETRY_AFTER_SECONDS = 10


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 with Retry-After when the database cannot be reached (a restart, a failover),
    500 otherwise. Rendered without a request context, like Django's own: the database may be gone."""
    if not isinstance(sys.exc_info()[1], UNAVAILABLE_ERRORS):
        return HttpResponse(loader.get_template("500.html").render(), status=500)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE_DETAIL}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
