"""The DPO's download of a representative's proof of authority (dsr/representative.py), from the request's page."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .representative import PROOF_EXTENSIONS
from .selectors import dsr_representative_proof_get


@login_required
@require_GET
def dpo_representative_proof(request: HttpRequest, pk: int) -> HttpResponse:
    """Downloaded, never shown inline; named after the request only (the content type is the one found from the
    file's own first bytes when it was uploaded). Not cached: voipxs.middleware marks it no-store."""
    proof, content = dsr_representative_proof_get(actor=request.user, request_id=pk)
    response = HttpResponse(content, content_type=proof.content_type)
    name = f"proof-of-authority-{pk}.{PROOF_EXTENSIONS[proof.content_type]}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
