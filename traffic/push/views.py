"""`POST /calls/push/`: a switch pushes its CDRs (traffic/push). No session, no CSRF token: HTTP basic auth
with the source's push credential. The answer is 201 only once the CDR is committed; a CDR already
stored (a retry) is answered 201 too, without storing it again."""
from __future__ import annotations

import base64
import binascii

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .body import PushRefused, push_document
from .credentials import push_source_for
from .store import push_store

NO_CREDENTIAL = "HTTP basic authentication with the source's push credential is required."
TOO_LARGE = "The body is larger than {limit} bytes: push one CDR per request."


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def cdr_push(request: HttpRequest) -> JsonResponse:
    source = _source(request)
    if source is None:
        response = JsonResponse({"error": NO_CREDENTIAL}, status=401)
        response["WWW-Authenticate"] = 'Basic realm="voipxs cdr push", charset="UTF-8"'
        return response
    limit = settings.CDR_PUSH_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return JsonResponse({"error": TOO_LARGE.format(limit=limit)}, status=413)
    try:
        body = request.body
    except RequestDataTooBig:
        body = b"x" * (limit + 1)
    if len(body) > limit:
        return JsonResponse({"error": TOO_LARGE.format(limit=limit)}, status=413)
    try:
        document = push_document(content_type=request.content_type or "", body=body, fmt=source.format)
        outcome = push_store(source=source, document=document)
    except PushRefused as refused:
        return JsonResponse({"error": refused.message}, status=refused.status)
    return JsonResponse(outcome.body, status=outcome.status)


def _source(request: HttpRequest):
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        username, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError):
        return None
    return push_source_for(username, password) if sep else None
