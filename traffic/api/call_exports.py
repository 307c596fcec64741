"""A customer's call exports through the API: ask for one (202 with its id and status URL), follow its
status, download its CSV once ready. `GET /api/v1/me/calls.csv` still streams up to STREAM_MAX_CALLS
calls at once and answers a bigger one with the same 202 (traffic.api.calls)."""
from __future__ import annotations

from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from voipxs.privacy.purposes import Purpose

from ..models import CallExport
from ..selectors.call_exports import EXPORT_NOT_READY, call_export_file, call_export_get_own
from ..selectors.calls import cdr_export_size
from ..selectors.cursors import MAX_ID
from ..services.call_exports import CallExportBusy, call_export_request


class CallExportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=CallExport.Status.choices)
    calls = serializers.IntegerField(allow_null=True, help_text="Calls in the file, once ready")
    size = serializers.IntegerField(allow_null=True, help_text="Bytes of the CSV, once ready")
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    direction = serializers.CharField(allow_blank=True)
    number_filter = serializers.SerializerMethodField(help_text="Whether a number filter was given (never shown)")
    invoice = serializers.IntegerField(source="invoice_id", allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(help_text="The file and this status are deleted after this moment")
    error = serializers.CharField(allow_blank=True)
    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(help_text="Set once the status is ready")

    class Meta:
        ref_name = "CallExport"

    def get_number_filter(self, export: CallExport) -> bool:
        return export.number_index is not None

    def _url(self, name: str, export: CallExport) -> str:
        path = reverse(name, args=[export.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_status_url(self, export: CallExport) -> str:
        return self._url("api-me-call-export", export)

    def get_download_url(self, export: CallExport) -> str | None:
        return self._url("api-me-call-export-download", export) if export.status == CallExport.Status.READY else None


class CsvRenderer(BaseRenderer):
    """Lets a client ask for CSV (`?format=csv` on the call list, `Accept: text/csv` on a download); the
    file is streamed by the view, so this renders only an error's text."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else str(data.get("detail", data) if isinstance(data, dict) else data).encode()


def call_export_accepted(request: Request, export: CallExport) -> Response:
    """202 Accepted with the export's status (JSON, whatever format was asked for) and its URL."""
    request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
    data = CallExportOutputSerializer(export, context={"request": request}).data
    return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["status_url"]})


def call_export_busy(request: Request, exc: CallExportBusy) -> Response:
    request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
    return Response({"detail": exc.shown(), **exc.extra}, status=status.HTTP_429_TOO_MANY_REQUESTS)


BUSY_RESPONSE = OpenApiResponse(description="Too many exports being prepared: wait until one is ready")


class MeCallExportCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)
        direction = serializers.ChoiceField(choices=["in", "out", "internal"], required=False)
        number = serializers.CharField(required=False, max_length=40, allow_blank=True)
        invoice = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID - 1)  # an id: a bigint

        def validate(self, attrs):
            if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
                raise serializers.ValidationError({"until": "The end date must not be before the start date."})
            return attrs

    @extend_schema(request=InputSerializer, responses={
        202: CallExportOutputSerializer, 400: OpenApiResponse(description="A bad filter; the body names the field"),
        429: BUSY_RESPONSE},
                   summary="Ask for a CSV file of your calls (written in the background; follow status_url)")
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        filters = {"since": None, "until": None, "direction": None, "number": None, "invoice": None,
                   **serializer.validated_data}
        filters["number"] = (filters["number"] or "").strip() or None
        # Validates the filters exactly as the task will read them: a bad one is a 400 naming the field
        # before anything is queued.
        cdr_export_size(actor=request.user, purpose=Purpose.SELF_SERVICE, at_most=0, **filters)
        try:
            export = call_export_request(owner=request.user, **filters)
        except CallExportBusy as exc:
            return call_export_busy(request, exc)
        return call_export_accepted(request, export)


class MeCallExportDetailApi(APIView):
    @extend_schema(responses={200: CallExportOutputSerializer, 404: OpenApiResponse(description="No such export of yours")},
                   summary="The status of one of your call exports")
    def get(self, request: Request, export_id: int) -> Response:
        export = call_export_get_own(actor=request.user, export_id=export_id)
        return Response(CallExportOutputSerializer(export, context={"request": request}).data)


class MeCallExportDownloadApi(APIView):
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CsvRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, streamed"),
                              404: OpenApiResponse(description="No such export of yours, or it expired"),
                              409: OpenApiResponse(description="Not ready yet (see its status)")},
                   summary="Download one of your call exports (formula injection neutralised)")
    def get(self, request: Request, export_id: int):
        export = call_export_get_own(actor=request.user, export_id=export_id)
        if export.status != CallExport.Status.READY:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
            return Response({"detail": EXPORT_NOT_READY, "field": "status", "status": export.status},
                            status=status.HTTP_409_CONFLICT)
        response = StreamingHttpResponse(call_export_file(actor=request.user, export=export),
                                         content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime(export.created_at)
        response["Content-Disposition"] = f'attachment; filename="calls-{stamp:%Y%m%d}-{export.pk}.csv"'
        response["Content-Length"] = str(export.size)
        return response
