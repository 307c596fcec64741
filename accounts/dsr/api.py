"""The data-subject API: a person's own requests (list, make one; one made through a representative says so, as
the page and the export do) and the download of a ready export."""
from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .export import dsr_export_download_log, export_decrypt_stream
from .models import DataSubjectRequest
from .selectors import dsr_export_get_own, dsr_request_list_own
from .services import dsr_request_create


class MyPrivacyRequestsApi(APIView):
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=DataSubjectRequest.Kind.choices)
        details = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="",
                                        help_text="Your own words: what is wrong (rectification), or the grounds "
                                                  "relating to your particular situation (objection).")
        purposes = serializers.ListField(
            child=serializers.CharField(max_length=32), required=False, default=list, max_length=20,
            help_text="Objection only: the purposes you object to; only those based on legitimate interests "
                      "(GDPR art. 6(1)(f)) can be named.")
        password = serializers.CharField(required=False, allow_blank=True, write_only=True, default="",
                                         help_text="Your password again; required for erasure.")

    class ExportSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        ready_at = serializers.DateTimeField(allow_null=True)
        expires_at = serializers.DateTimeField(allow_null=True)

        class Meta:
            ref_name = "MyPrivacyExport"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        status = serializers.CharField()
        received_at = serializers.DateTimeField()
        deadline = serializers.DateTimeField()
        extension_reason = serializers.CharField()
        completed_at = serializers.DateTimeField(allow_null=True)
        answer = serializers.CharField()
        texts_erased_at = serializers.DateTimeField(
            read_only=True, allow_null=True,
            help_text="When what you wrote on this request, the extension's reason and the answer given before were "
                      "erased with your account's data (the type, dates, status and outcome stay as the record); "
                      "null while they are kept.")
        exports = serializers.SerializerMethodField()
        objections = serializers.SerializerMethodField()
        # Made through a representative (support records it): as the page and the export show it.
        through_representative = serializers.SerializerMethodField()
        representative_kind = serializers.ChoiceField(
            choices=DataSubjectRequest.RepresentativeKind.choices, allow_blank=True,
            help_text="Who made the request for you; empty when you made it yourself.")
        representative_name = serializers.CharField(
            allow_null=True, help_text="The representative's name; null when you made it yourself, or once it was "
                                       "erased with your account's data.")
        representative_authority_checked_at = serializers.DateTimeField(
            source="representative_checked_at", allow_null=True,
            help_text="When support checked the representative's proof of authority.")
        representative_proof_kept = serializers.BooleanField(
            help_text="Whether a copy of that proof of authority is kept (only the data protection officer opens it).")

        class Meta:
            ref_name = "MyPrivacyRequest"

        def get_exports(self, obj) -> list[dict]:
            return MyPrivacyRequestsApi.ExportSerializer(
                [e for e in obj.exports.all() if e.status != "deleted"], many=True).data

        def get_objections(self, obj) -> list[dict]:
            """An objection's purposes and each one's outcome ("" while pending); other kinds have none."""
            return [{"purpose": o.purpose, "outcome": o.outcome} for o in obj.objections.all()]

        def get_through_representative(self, obj) -> bool:
            return bool(obj.representative_kind)

    @extend_schema(responses=OutputSerializer(many=True), summary="Your data-subject requests")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(dsr_request_list_own(actor=request.user), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer, 400: OpenApiResponse(description="bad field")},
                   summary="Make a request (access, portability, rectification, erasure, restriction, objection)")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        req = dsr_request_create(user=request.user, **data.validated_data)
        return Response(self.OutputSerializer(req).data, status=status.HTTP_201_CREATED)


class MyPrivacyExportDownloadApi(APIView):
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="not yours or not ready")},
                   summary="Download your export (ZIP with export.json and CSV files)")
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        export = dsr_export_get_own(actor=request.user, export_id=pk)
        dsr_export_download_log(export=export, actor=request.user)
        response = StreamingHttpResponse(export_decrypt_stream(export), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="voipxs-export-{export.pk}.zip"'
        response["Cache-Control"] = "no-store"
        return response
