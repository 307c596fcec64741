"""Project-wide DRF pieces: the exception handler (no 500 for bad input, field named in 4xx)."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .privacy.crypto import DecryptionError
from .exceptions import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    elif isinstance(exc, ApplicationError):
        # The translation's msgid and params are the page's business (ApplicationError.shown), not the API's.
        extra = {k: v for k, v in exc.extra.items() if k not in ("msgid", "params")}
        response = drf_exception_handler(exceptions.ValidationError({"detail": exc.shown(), **extra}), context)
        # DRF's error details are text; a line number or a count stays a number, as in the import reports.
        response.data.update({k: v for k, v in extra.items() if type(v) in (int, float, bool)})
        return response
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DecryptionError):
        # A key problem is an operator's problem; never echo what failed to decrypt.
        return Response({"detail": "Stored data could not be decrypted."}, status=503)
    return drf_exception_handler(exc, context)


class AutoSchema(SpectacularAutoSchema):
    """Every API view nests its own InputSerializer/OutputSerializer (STYLE_GUIDE), so the class
    name alone would give every view the same "Output" component. Nested serializers are named
    after their view instead: MeNumbersApi.OutputSerializer -> "MeNumbersApiOutput"."""

    def get_serializer_name(self, serializer: Any, direction: Any) -> str:
        cls = serializer.__class__
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            return outer.replace(".", "") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)
