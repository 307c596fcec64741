"""Traffic API. Ingest side (sources, imports) first; the portal side appends its APIs below."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voipxs.privacy.purposes import Role, has_role

from . import selectors_ingest, services
from .models import CdrImport, Source

IMPORT_SOURCE_UNKNOWN = "No such source."
UPLOAD_MAX_BYTES = 512 * 1024 * 1024


class IsBillingOrAdmin(BasePermission):
    message = "Only billing staff and administrators manage CDR sources and imports."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.BILLING, Role.ADMIN)


class SourceListCreateApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBillingOrAdmin]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=60)
        format = serializers.ChoiceField(choices=Source.Format.choices)
        timezone = serializers.CharField(max_length=64)
        default_country = serializers.CharField(max_length=2, default="NL")
        carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        format = serializers.CharField()
        timezone = serializers.CharField()
        default_country = serializers.CharField()
        carrier = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), summary="CDR sources (switches)")
    def get(self, request: Request) -> Response:
        sources = selectors_ingest.source_list(actor=request.user, purpose=selectors_ingest.ingest_purpose(request.user))
        return Response(self.OutputSerializer(sources, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, summary="Declare a CDR source")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = services.source_create(actor=request.user, **data.validated_data)
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
    conflict_rows = serializers.SerializerMethodField()
    error = serializers.CharField()
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    rerun_of = serializers.IntegerField(source="rerun_of_id", allow_null=True)
    can_rerun = serializers.BooleanField()

    def get_rejected(self, obj: CdrImport) -> list[dict]:
        return (obj.report or {}).get("rejected", [])

    def get_conflict_rows(self, obj: CdrImport) -> list[dict]:
        return (obj.report or {}).get("conflicts", [])


class CdrImportCreateApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBillingOrAdmin]
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
        cdr_import = services.cdr_import_upload(source=data.validated_data["source"], upload=upload,
                                                file_name=upload.name or "", actor=request.user)
        return Response(self.OutputSerializer(cdr_import).data, status=status.HTTP_202_ACCEPTED)


class CdrImportListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBillingOrAdmin]

    @extend_schema(responses=CdrImportOutputSerializer(many=True), summary="Recent CDR imports")
    def get(self, request: Request) -> Response:
        imports = selectors_ingest.cdr_import_list(actor=request.user, purpose=selectors_ingest.ingest_purpose(request.user))
        return Response(CdrImportOutputSerializer(imports, many=True).data)


class CdrImportDetailApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBillingOrAdmin]

    @extend_schema(responses=CdrImportOutputSerializer, summary="One CDR import with its report")
    def get(self, request: Request, import_id: int) -> Response:
        cdr_import = selectors_ingest.cdr_import_get(actor=request.user, import_id=import_id,
                                                     purpose=selectors_ingest.ingest_purpose(request.user))
        return Response(CdrImportOutputSerializer(cdr_import).data)


class CdrImportRerunApi(APIView):
    """A failed import's stored file, imported again as a new import (rows already landed count as its
    duplicates); 202 with the new import."""

    permission_classes = [*APIView.permission_classes, IsBillingOrAdmin]

    @extend_schema(request=None, responses={202: CdrImportOutputSerializer}, summary="Re-run a failed CDR import")
    def post(self, request: Request, import_id: int) -> Response:
        cdr_import = selectors_ingest.cdr_import_get(actor=request.user, import_id=import_id,
                                                     purpose=selectors_ingest.ingest_purpose(request.user))
        rerun = services.cdr_import_rerun(cdr_import=cdr_import, actor=request.user)
        return Response(CdrImportOutputSerializer(rerun).data, status=status.HTTP_202_ACCEPTED)


# --- portal side: calls, usage, invoices, interconnection (reads through traffic.selectors) ------------------

from django.http import StreamingHttpResponse  # noqa: E402
from django.utils.timezone import now  # noqa: E402
from drf_spectacular.types import OpenApiTypes  # noqa: E402
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse  # noqa: E402

from rest_framework.renderers import BaseRenderer  # noqa: E402
from rest_framework.settings import api_settings  # noqa: E402

from voipxs.privacy.purposes import Purpose  # noqa: E402

from . import exports, invoicing, selectors  # noqa: E402

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


class IsBilling(BasePermission):
    message = "Only billing staff may do this."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.BILLING)


class IsContractorAdmin(BasePermission):
    message = "Only a contractor's admins see its users' traffic."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.CONTRACTOR_ADMIN)


class CallFilterSerializer(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    direction = serializers.ChoiceField(choices=["in", "out", "internal"], required=False)
    number = serializers.CharField(required=False, max_length=40, allow_blank=True)
    invoice = serializers.IntegerField(required=False, min_value=1)
    cursor = serializers.CharField(required=False, max_length=200, allow_blank=True)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_LIMIT, default=50)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": "The end date must not be before the start date."})
        return attrs


def _call_filters(data: dict) -> dict:
    return {"since": data.get("since"), "until": data.get("until"), "direction": data.get("direction") or None,
            "number": (data.get("number") or "").strip() or None, "invoice": data.get("invoice")}


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


class CallPageSerializer(serializers.Serializer):
    results = CallOutputSerializer(many=True, source="rows")
    next_cursor = serializers.CharField(allow_null=True)


def _call_page_response(request: Request, *, purpose: Purpose) -> Response:
    filters = CallFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    data = filters.validated_data
    page = selectors.cdr_list(actor=request.user, purpose=purpose, after=data.get("cursor") or None,
                              limit=data["limit"], **_call_filters(data))
    return Response(CallPageSerializer(page).data)


class CsvRenderer(BaseRenderer):
    """Lets `?format=csv` select the CSV export on the call list; the body is streamed by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b"" if data is None else str(data.get("detail", data) if isinstance(data, dict) else data).encode()


class MeCallListApi(APIView):
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CsvRenderer]

    @extend_schema(parameters=CALL_FILTER_PARAMETERS + PAGE_PARAMETERS + [
        OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: the same calls as CSV, all pages"),
    ], responses=CallPageSerializer, summary="Your calls, newest first (keyset pages; follow next_cursor)")
    def get(self, request: Request):
        if getattr(request.accepted_renderer, "format", "") == "csv":
            return MeCallCsvApi().get(request)
        return _call_page_response(request, purpose=Purpose.SELF_SERVICE)


class MeCallCsvApi(APIView):
    @extend_schema(parameters=CALL_FILTER_PARAMETERS,
                   responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, streamed")},
                   summary="Your calls as CSV (formula injection neutralised)")
    def get(self, request: Request) -> StreamingHttpResponse:
        filters = CallFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.cdr_export_rows(actor=request.user, purpose=Purpose.SELF_SERVICE,
                                         **_call_filters(filters.validated_data))
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
        usage = selectors.cdr_usage_by_month(actor=request.user, purpose=Purpose.SELF_SERVICE,
                                             months=filters.validated_data["months"])
        return Response(self.OutputSerializer(usage, many=True).data)


class InvoiceLineOutputSerializer(serializers.Serializer):
    zone = serializers.CharField()
    month = serializers.DateField()
    calls = serializers.IntegerField()
    seconds = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class InvoiceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    period = serializers.DateField()
    issued_at = serializers.DateTimeField()
    due_date = serializers.DateField()
    dispute_window_ends = serializers.DateField()
    status = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)
    disputed_at = serializers.DateTimeField(allow_null=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True,
                                        help_text="id of the void invoice this corrected one replaces")


class InvoiceDetailOutputSerializer(InvoiceOutputSerializer):
    lines = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField(help_text="id of the corrected invoice that replaced this void one")

    def get_replaced_by(self, invoice) -> int | None:
        replaced_by = getattr(invoice, "replaced_by", None)  # a missing reverse one-to-one is an AttributeError
        return replaced_by.pk if replaced_by is not None else None

    def get_lines(self, invoice) -> list[dict]:
        return InvoiceLineOutputSerializer(selectors.invoice_lines(invoice=invoice), many=True).data


class InvoiceFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "paid", "disputed", "void"], required=False)


class MeInvoiceListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "paid", "disputed", "void"])],
                   responses=InvoiceOutputSerializer(many=True), summary="Your invoices, newest first")
    def get(self, request: Request) -> Response:
        filters = InvoiceFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        invoices = selectors.invoice_list(actor=request.user, purpose=Purpose.SELF_SERVICE,
                                          status=filters.validated_data.get("status"))
        return Response(InvoiceOutputSerializer(invoices, many=True).data)


class MeInvoiceDetailApi(APIView):
    @extend_schema(responses=InvoiceDetailOutputSerializer, summary="One of your invoices with its lines")
    def get(self, request: Request, invoice_id: int) -> Response:
        invoice = selectors.invoice_get(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice_id=invoice_id)
        return Response(InvoiceDetailOutputSerializer(invoice).data)


class ContractorCallListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsContractorAdmin]

    # No `number` filter: numbers are masked here, and a filter on them would reveal the hidden digits.
    @extend_schema(parameters=[p for p in CALL_FILTER_PARAMETERS if p.name != "number"] + PAGE_PARAMETERS,
                   responses=CallPageSerializer, summary="Your contractor's users' calls, numbers masked")
    def get(self, request: Request) -> Response:
        return _call_page_response(request, purpose=Purpose.CONTRACTOR_INFORMATION)


class StaffInvoiceListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class OutputSerializer(InvoiceOutputSerializer):
        account_id = serializers.IntegerField()
        contractor_id = serializers.IntegerField(allow_null=True)

        class Meta:
            ref_name = "StaffInvoice"

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "paid", "disputed", "void"])],
                   responses=OutputSerializer(many=True), summary="All invoices (billing)")
    def get(self, request: Request) -> Response:
        filters = InvoiceFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        invoices = selectors.invoice_list(actor=request.user, purpose=Purpose.BILLING,
                                          status=filters.validated_data.get("status"))
        return Response(self.OutputSerializer(invoices, many=True).data)


class StaffInvoicePaidApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    @extend_schema(request=None, responses=InvoiceOutputSerializer, summary="Mark an open invoice paid")
    def post(self, request: Request, invoice_id: int) -> Response:
        invoice = selectors.invoice_get(actor=request.user, purpose=Purpose.BILLING, invoice_id=invoice_id)
        invoice = invoicing.invoice_mark_paid(invoice=invoice, actor=request.user)
        return Response(InvoiceOutputSerializer(invoice).data)


class StaffInvoiceDisputeApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    @extend_schema(request=None, responses=InvoiceOutputSerializer,
                   summary="Record a dispute on an open or paid invoice (within its dispute window)")
    def post(self, request: Request, invoice_id: int) -> Response:
        invoice = selectors.invoice_get(actor=request.user, purpose=Purpose.DISPUTE, invoice_id=invoice_id)
        invoice = invoicing.invoice_dispute(invoice=invoice, actor=request.user)
        return Response(InvoiceOutputSerializer(invoice).data)


class StaffInvoiceReissueApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    @extend_schema(request=None, responses={201: InvoiceOutputSerializer},
                   summary="Replace a void invoice by a corrected one for the same month, from its calls")
    def post(self, request: Request, invoice_id: int) -> Response:
        invoice = selectors.invoice_get(actor=request.user, purpose=Purpose.BILLING, invoice_id=invoice_id)
        invoice = invoicing.invoice_reissue(invoice=invoice, actor=request.user)
        return Response(InvoiceOutputSerializer(invoice).data, status=status.HTTP_201_CREATED)


class StaffInterconnectionApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class FilterSerializer(serializers.Serializer):
        month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", error_messages={"invalid": "Give the month as YYYY-MM."})

    class OutputSerializer(serializers.Serializer):
        carrier = serializers.CharField()
        source = serializers.CharField()
        calls = serializers.IntegerField()
        seconds = serializers.IntegerField()
        amount = serializers.DecimalField(max_digits=14, decimal_places=2)

        class Meta:
            ref_name = "InterconnectionRow"

    @extend_schema(parameters=[OpenApiParameter("month", OpenApiTypes.STR, required=True, description="YYYY-MM")],
                   responses=OutputSerializer(many=True), summary="Answered calls per carrier/switch in a month")
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        month = selectors.parse_month(filters.validated_data["month"])
        rows = selectors.interconnection_report(actor=request.user, purpose=Purpose.INTERCONNECTION, month=month)
        return Response(self.OutputSerializer(rows, many=True).data)
