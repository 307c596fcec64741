"""CDR sources and imports for billing staff, network operations and administrators: declare a source,
upload a file (imported in the background), follow the import and its report, re-run a failed one."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import CdrImport, Source
from ..selectors.sources_imports import cdr_import_get, cdr_import_list, ingest_purpose, source_list
from ..services.imports import cdr_import_rerun, cdr_import_upload
from ..services.sources import source_create
from .permissions import IsIngestStaff

IMPORT_SOURCE_UNKNOWN = "No such source."
UPLOAD_MAX_BYTES = 512 * 1024 * 1024


class SourceListCreateApi(APIView):
    permission_classes = [*APIView.permission_classes, IsIngestStaff]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=60)
        format = serializers.ChoiceField(choices=Source.Format.choices)
        timezone = serializers.CharField(max_length=64)
        default_country = serializers.CharField(max_length=2, default="NL")
        carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        columns = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="", help_text=(
            "The switch's layout as configured there: a cdr_custom.conf mapping line, a mod_cdr_csv template "
            "or a stock template's name (example, sql, snom, linksys, asterisk, opencdrrate), or the "
            "modparam(\"acc\", ...) lines of kamailio.cfg (cdr_start_on_confirmed, cdr_start_id, cdr_end_id, "
            "cdr_duration_id; none: Kamailio's defaults)"))

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        format = serializers.CharField()
        timezone = serializers.CharField()
        default_country = serializers.CharField()
        carrier = serializers.CharField()
        columns = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), summary="CDR sources (switches)")
    def get(self, request: Request) -> Response:
        sources = source_list(actor=request.user, purpose=ingest_purpose(request.user))
        return Response(self.OutputSerializer(sources, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, summary="Declare a CDR source")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = source_create(actor=request.user, **data.validated_data)
        return Response(self.OutputSerializer(source).data, status=status.HTTP_201_CREATED)


class CdrImportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField(source="source.name")
    file_name = serializers.CharField()
    file_sha256 = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    imported = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    conflicts = serializers.IntegerField()
    flagged = serializers.IntegerField()
    rejected = serializers.SerializerMethodField()
    rejected_total = serializers.SerializerMethodField()
    conflict_rows = serializers.SerializerMethodField()
    error = serializers.CharField()
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    rerun_of = serializers.IntegerField(source="rerun_of_id", allow_null=True)
    can_rerun = serializers.BooleanField()

    def get_rejected(self, obj: CdrImport) -> list[dict]:
        return (obj.report or {}).get("rejected", [])

    def get_rejected_total(self, obj: CdrImport) -> int:
        """Every rejected row; `rejected` lists at most the first 10,000."""
        return int((obj.report or {}).get("rejected_total", 0))

    def get_conflict_rows(self, obj: CdrImport) -> list[dict]:
        return (obj.report or {}).get("conflicts", [])


class CdrImportCreateApi(APIView):
    permission_classes = [*APIView.permission_classes, IsIngestStaff]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        source = serializers.CharField(help_text="the source's name")
        file = serializers.FileField(allow_empty_file=False)

        def validate_source(self, value: str) -> Source:
            source = Source.objects.filter(name=value).first()
            if source is None:
                raise serializers.ValidationError(IMPORT_SOURCE_UNKNOWN)
            return source

        def validate_file(self, value):
            if value.size > UPLOAD_MAX_BYTES:
                raise serializers.ValidationError("The file is too large.")
            return value

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={202: OutputSerializer},
                   summary="Upload a CDR file; it is imported in the background")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        cdr_import = cdr_import_upload(source=data.validated_data["source"], upload=upload,
                                       file_name=upload.name or "", actor=request.user)
        return Response(self.OutputSerializer(cdr_import).data, status=status.HTTP_202_ACCEPTED)


class CdrImportListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsIngestStaff]

    @extend_schema(responses=CdrImportOutputSerializer(many=True), summary="Recent CDR imports")
    def get(self, request: Request) -> Response:
        imports = cdr_import_list(actor=request.user, purpose=ingest_purpose(request.user))
        return Response(CdrImportOutputSerializer(imports, many=True).data)


class CdrImportDetailApi(APIView):
    permission_classes = [*APIView.permission_classes, IsIngestStaff]

    @extend_schema(responses=CdrImportOutputSerializer, summary="One CDR import with its report")
    def get(self, request: Request, import_id: int) -> Response:
        cdr_import = cdr_import_get(actor=request.user, import_id=import_id, purpose=ingest_purpose(request.user))
        return Response(CdrImportOutputSerializer(cdr_import).data)


class CdrImportRerunApi(APIView):
    """A failed import's stored file, imported again as a new import (rows already landed count as its
    duplicates); 202 with the new import."""

    permission_classes = [*APIView.permission_classes, IsIngestStaff]

    @extend_schema(request=None, responses={202: CdrImportOutputSerializer}, summary="Re-run a failed CDR import")
    def post(self, request: Request, import_id: int) -> Response:
        cdr_import = cdr_import_get(actor=request.user, import_id=import_id, purpose=ingest_purpose(request.user))
        rerun = cdr_import_rerun(cdr_import=cdr_import, actor=request.user)
        return Response(CdrImportOutputSerializer(rerun).data, status=status.HTTP_202_ACCEPTED)
