"""POST /api/v1/me/calls/setup/: click-to-call. The browser extension sends `{"number": ...}` (and optionally
`"from"`, the id of the own number that rings first) with `Authorization: CallSetup <token>`, no cookies and
no referrer; the portal's Call button sends the same with its session. GET lists the own numbers that can
ring first (the extension's options page). The view reads the body's two fields and the user: no header
of the request (Referer, Origin, User-Agent) is stored or logged.

Extensions call from their own origin (chrome-extension://…, moz-extension://…): this view, and only it,
answers their CORS preflight, without Access-Control-Allow-Credentials (no cookie ever comes along).
"""
from __future__ import annotations

from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_auth import CallSetupTokenAuthentication, ExpiringTokenAuthentication, SecondFactorOrCallSetupToken
from accounts.models import CallSetupToken
from accounts.selectors import phone_number_list
from voipxs.privacy.purposes import Purpose

from ..callsetup.base import SwitchUnavailable
from ..services.call_setup import NumberRefused, RateLimited, call_setup_request
from .permissions import MaySetUpCalls

EXTENSION_ORIGINS = ("chrome-extension://", "moz-extension://", "safari-web-extension://")
FIELDS_ALLOWED = gettext_noop("Only 'number' and 'from' are accepted: a set-up needs nothing else.")
RATE_LIMITED = gettext_noop("Too many calls set up in a short time. Wait a few minutes and try again.")
SWITCH_MESSAGES = {
    "off": gettext_noop("Click-to-call is not switched on for this service yet. Nothing was dialled."),
    "down": gettext_noop("The phone switch cannot be reached. Nothing was dialled; try again in a few minutes."),
    "timeout": gettext_noop(
        "The phone switch did not answer in time. Nothing was dialled; try again in a few minutes."),
    "login": gettext_noop("The phone switch refused our connection. Nothing was dialled; support has been told."),
    "refused": gettext_noop(
        "The phone switch did not accept the call. Nothing was dialled; try again in a few minutes."),
    "protocol": gettext_noop("The phone switch answered something we did not understand. Nothing was dialled."),
}


class CallSetupApi(APIView):
    authentication_classes = [CallSetupTokenAuthentication, ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, SecondFactorOrCallSetupToken, MaySetUpCalls]

    class InputSerializer(serializers.Serializer):
        number = serializers.CharField(max_length=64, trim_whitespace=True)
        # "from" is a Python keyword: the field is renamed below.
        from_ = serializers.IntegerField(required=False, allow_null=True, min_value=1)

        def get_fields(self):
            fields = super().get_fields()
            fields["from"] = fields.pop("from_")
            return fields

        def validate(self, attrs):
            unknown = set(self.initial_data) - {"number", "from"} if isinstance(self.initial_data, dict) else set()
            if unknown:
                raise serializers.ValidationError({"detail": FIELDS_ALLOWED})
            return attrs

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        own_number = serializers.CharField()
        message = serializers.CharField()

    class NumberSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        label = serializers.CharField()

    def initial(self, request, *args, **kwargs):
        if request.method == "OPTIONS" and self._extension_origin(request):
            return  # a CORS preflight carries no credentials; it learns only which headers we accept
        super().initial(request, *args, **kwargs)

    def options(self, request, *args, **kwargs):
        if self._extension_origin(request):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return super().options(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = self._extension_origin(request)
        if origin:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response["Access-Control-Max-Age"] = "600"
            patch_vary_headers(response, ("Origin",))
        return response

    @staticmethod
    def _extension_origin(request) -> str:
        origin = request.headers.get("Origin", "")
        return origin if origin.startswith(EXTENSION_ORIGINS) and len(origin) < 200 else ""

    @extend_schema(responses={200: NumberSerializer(many=True)}, summary="Own numbers that can ring first")
    def get(self, request: Request) -> Response:
        numbers = phone_number_list(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user,
                                    current_only=True)
        return Response(self.NumberSerializer(
            [{"id": n.pk, "number": n.number, "label": n.label} for n in numbers], many=True).data)

    @extend_schema(request=InputSerializer, responses={
        201: OutputSerializer, 400: OpenApiResponse(description="not a number, a blocked prefix, or not your number"),
        429: OpenApiResponse(description="rate limit"), 503: OpenApiResponse(description="the switch is unavailable"),
    }, summary="Set up a call: your phone rings first, then the number")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = request.auth if isinstance(request.auth, CallSetupToken) else None
        try:
            done = call_setup_request(user=request.user, number=data.validated_data["number"],
                                      from_id=data.validated_data.get("from"), token=token)
        except NumberRefused as exc:
            field = exc.extra.get("field", "number")
            return Response({field: [exc.shown()], "reason": exc.extra.get("reason", "")}, status=400)
        except RateLimited:
            return Response({"detail": _(RATE_LIMITED)}, status=429, headers={"Retry-After": "60"})
        except SwitchUnavailable as exc:
            message = SWITCH_MESSAGES.get(exc.kind, SWITCH_MESSAGES["down"])
            return Response({"detail": _(message), "reason": exc.kind}, status=503, headers={"Retry-After": "60"})
        message = _("Your phone %(own)s rings first; pick it up and %(number)s is called.") % {
            "own": done.own_number, "number": done.number}
        return Response(self.OutputSerializer({"id": done.record.pk, "number": done.number,
                                               "own_number": done.own_number, "message": message}).data,
                        status=201)
