"""Calls through the API: own calls (keyset pages, or all of them as CSV), own usage per month, and a
contractor's Users' calls (masked). Reads go through `traffic.selectors.calls`."""
from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.timezone import now
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.selectors import contractor_user_names
from voipxs.privacy.purposes import Purpose

from .. import exports
from ..selectors.calls import MAX_LIMIT, cdr_export_rows, cdr_export_size, cdr_list, cdr_usage_by_month
from ..selectors.cursors import MAX_ID
from ..services.call_exports import STREAM_MAX_CALLS, CallExportBusy, call_export_request
from .call_exports import (
    BUSY_RESPONSE, CallExportOutputSerializer, CsvRenderer, call_export_accepted, call_export_busy,
)
from .permissions import IsContractorAdmin

CALL_FILTER_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.DATE, description="First day (inclusive, Europe/Amsterdam)"),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Last day (inclusive, Europe/Amsterdam)"),
    OpenApiParameter("direction", OpenApiTypes.STR, enum=["in", "out", "internal"]),
    OpenApiParameter("number", OpenApiTypes.STR, description="Other or own party; national format is read in your region"),
    OpenApiParameter("invoice", OpenApiTypes.INT, description="Only the calls billed on this invoice (its id)"),
]
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="Opaque `next_cursor` of the previous page"),
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size, 1-500 (default 50)"),
]


class CallFilterSerializer(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    direction = serializers.ChoiceField(choices=["in", "out", "internal"], required=False)
    number = serializers.CharField(required=False, max_length=40, allow_blank=True)
    invoice = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID - 1)  # an id: a bigint
    cursor = serializers.CharField(required=False, max_length=200, allow_blank=True)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=50)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "The end date must not be before the start date."})
        return attrs


def _call_filters(data: dict) -> dict:
    return {"since": data.get("since"), "until": data.get("until"), "direction": data.get("direction") or None,
            "number": (data.get("number") or "").strip() or None, "invoice": data.get("invoice")}


class CallLegSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    disposition = serializers.CharField()
    duration = serializers.IntegerField()
    billsec = serializers.IntegerField()
    own_number = serializers.CharField()
    other_number = serializers.CharField()
    zone = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=5, allow_null=True)


class CallNoteSerializer(serializers.Serializer):
    text = serializers.CharField(allow_null=True, help_text="What you stated about the call, as the DPO "
                                 "recorded it; null: it can no longer be read (the call's month was purged)")
    created_at = serializers.DateTimeField()


class CallOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    direction = serializers.CharField()
    disposition = serializers.CharField()
    duration = serializers.IntegerField()
    billsec = serializers.IntegerField()
    own_number = serializers.CharField()
    other_number = serializers.CharField()
    caller_name = serializers.CharField(help_text="Untrusted text from the switch; escape before display")
    zone = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=5, allow_null=True)
    masked = serializers.BooleanField()
    legs = CallLegSerializer(many=True, help_text=(
        "A call of several legs (a ring group, a Local-channel fork, a transfer): each leg in time order; "
        "billsec and price above are the sums over them. Empty for a call of one leg."))
    notes = CallNoteSerializer(many=True, help_text=(
        "Notes on the call, oldest first (GDPR art. 16): a call is never changed after the switch recorded it; "
        "what you asked to correct is attached to it as a note. Empty for most calls."))


class CallPageSerializer(serializers.Serializer):
    results = CallOutputSerializer(many=True, source="rows")
    next_cursor = serializers.CharField(allow_null=True)
    itemised = serializers.BooleanField(help_text=(
        "false: an invoice's calls are not listed (results stay empty): your bills are not itemised, the "
        "default; your contractor's setting (Contractor.itemisation), or your own without a contractor "
        "(User.itemisation). Your own calls without `invoice` are always listed"))


class ContractorCallOutputSerializer(CallOutputSerializer):
    notes = None  # a User's statements about their calls are theirs, not the contractor's (selectors.annotations)
    user = serializers.SerializerMethodField(help_text="The User who made or took the call: the login name your "
                                                       "contractor created them under")

    def get_user(self, row) -> str:
        return self.context.get("user_names", {}).get(row.account_id, "")


class ContractorCallPageSerializer(serializers.Serializer):
    results = ContractorCallOutputSerializer(many=True, source="rows")
    next_cursor = serializers.CharField(allow_null=True)
    itemised = serializers.BooleanField()


def _call_page_response(request: Request, *, purpose: Purpose) -> Response:
    filters = CallFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    data = filters.validated_data
    page = cdr_list(actor=request.user, purpose=purpose, after=data.get("cursor") or None,
                    limit=data["limit"], **_call_filters(data))
    if purpose == Purpose.CONTRACTOR_INFORMATION:
        names = contractor_user_names(actor=request.user, user_ids=[r.account_id for r in page.rows])
        return Response(ContractorCallPageSerializer(page, context={"user_names": names}).data)
    return Response(CallPageSerializer(page).data)


class MeCallListApi(APIView):
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CsvRenderer]

    @extend_schema(parameters=CALL_FILTER_PARAMETERS + PAGE_PARAMETERS + [
        OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description=(
            f"csv: the same calls as CSV, all pages (more than {STREAM_MAX_CALLS}: 202, as calls.csv)")),
    ], responses={200: CallPageSerializer, 202: CallExportOutputSerializer, 429: BUSY_RESPONSE}, summary="Your calls, newest first (keyset pages; follow next_cursor)")
    def get(self, request: Request):
        if getattr(request.accepted_renderer, "format", "") == "csv":
            return MeCallCsvApi().get(request)
        return _call_page_response(request, purpose=Purpose.SELF_SERVICE)


class MeCallCsvApi(APIView):
    @extend_schema(parameters=CALL_FILTER_PARAMETERS,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, streamed"),
                              202: OpenApiResponse(CallExportOutputSerializer, description=(
                                  f"More than {STREAM_MAX_CALLS} calls: the file is written in the background; "
                                  "follow status_url, then download_url")),
                              429: BUSY_RESPONSE},
                   summary="Your calls as CSV (formula injection neutralised)")
    def get(self, request: Request):
        filters = CallFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        chosen = _call_filters(filters.validated_data)
        size = cdr_export_size(actor=request.user, purpose=Purpose.SELF_SERVICE, at_most=STREAM_MAX_CALLS, **chosen)
        if size > STREAM_MAX_CALLS:  # too many for a web worker: a task writes the file
            try:
                return call_export_accepted(request, call_export_request(owner=request.user, **chosen))
            except CallExportBusy as exc:
                return call_export_busy(request, exc)
        rows = cdr_export_rows(actor=request.user, purpose=Purpose.SELF_SERVICE, **chosen)
        response = StreamingHttpResponse(exports.calls_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="calls-{now():%Y%m%d}.csv"'
        return response


class MeUsageApi(APIView):
    class OutputSerializer(serializers.Serializer):
        month = serializers.DateField()
        calls = serializers.IntegerField()
        seconds = serializers.IntegerField()
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)

        class Meta:
            ref_name = "UsageMonth"

    class FilterSerializer(serializers.Serializer):
        months = serializers.IntegerField(required=False, min_value=1, max_value=36, default=12)

    @extend_schema(parameters=[OpenApiParameter("months", OpenApiTypes.INT, description="How many months back, 1-36")],
                   responses=OutputSerializer(many=True), summary="Your usage per month (oldest first)")
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        usage = cdr_usage_by_month(actor=request.user, purpose=Purpose.SELF_SERVICE,
                                   months=filters.validated_data["months"])
        return Response(self.OutputSerializer(usage, many=True).data)


class ContractorCallListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsContractorAdmin]

    # No `number` filter: numbers are masked here, and a filter on them would reveal the hidden digits.
    @extend_schema(parameters=[p for p in CALL_FILTER_PARAMETERS if p.name != "number"] + PAGE_PARAMETERS,
                   responses=ContractorCallPageSerializer,
                   summary="Your contractor's users' calls, numbers masked, with the User of each")
    def get(self, request: Request) -> Response:
        return _call_page_response(request, purpose=Purpose.CONTRACTOR_INFORMATION)
