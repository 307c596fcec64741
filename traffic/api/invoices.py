"""Invoices through the API: a customer's own invoices with their lines, and billing staff's list of
all invoices and the state transitions (paid, dispute, reissue). Lines are aggregates per zone and
month: no numbers."""
from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voipxs.privacy.purposes import Purpose

from ..invoice_pdf import pdf_response
from ..models import InvoiceDispute
from ..selectors.invoices import invoice_disputes, invoice_get, invoice_lines, invoice_list, invoice_page, invoice_pdf
from ..services.invoices import invoice_dispute, invoice_mark_paid, invoice_reissue
from .permissions import IsBilling

class InvoiceLineOutputSerializer(serializers.Serializer):
    zone = serializers.CharField()
    zone_nl = serializers.CharField(help_text="the zone's Dutch name when the invoice was made; empty if it had none")
    month = serializers.DateField()
    calls = serializers.IntegerField()
    seconds = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="excl. VAT")


class InvoiceDisputeOutputSerializer(serializers.Serializer):
    """What the invoice page shows of a dispute, never what was written (the reason: the pages and data export)."""
    opened_at = serializers.DateTimeField(source="raised_at")
    raised_by = serializers.ChoiceField(choices=InvoiceDispute.RaisedBy.values)
    status = serializers.SerializerMethodField(help_text="open until billing decides it")
    decided_at = serializers.DateTimeField(source="resolved_at", allow_null=True)
    outcome = serializers.SerializerMethodField(help_text="upheld: the invoice is void (a corrected one replaces it); "
                                                          "rejected: the invoice stands; null while open")

    @extend_schema_field(serializers.ChoiceField(choices=["open", "decided"]))
    def get_status(self, dispute: InvoiceDispute) -> str:
        return "open" if dispute.resolved_at is None else "decided"

    @extend_schema_field(serializers.ChoiceField(choices=["upheld", "rejected"], allow_null=True))
    def get_outcome(self, dispute: InvoiceDispute) -> str | None:
        return dispute.outcome or None


class InvoiceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    period = serializers.DateField()
    issued_at = serializers.DateTimeField()
    due_date = serializers.DateField()
    dispute_window_ends = serializers.DateField()
    calls_kept_until = serializers.DateField(
        allow_null=True, help_text="its calls are kept at least until this day: the dispute window's end, or later "
        "once a dispute is decided (time to appeal, and for an upheld dispute to make the corrected invoice)")
    status = serializers.CharField()
    paid_at = serializers.DateTimeField(allow_null=True)
    disputed_at = serializers.DateTimeField(allow_null=True)
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="sum of the lines, excl. VAT")
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="VAT rate in percent")
    vat_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="amount due, incl. VAT")
    currency = serializers.CharField()
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True,
                                        help_text="id of the void invoice this corrected one replaces")


class StaffInvoiceOutput(InvoiceOutputSerializer):
    account_id = serializers.IntegerField()
    contractor_id = serializers.IntegerField(allow_null=True)
    disputes = InvoiceDisputeOutputSerializer(many=True, source="listed_disputes", read_only=True,
                                              help_text="each dispute of the invoice, oldest first")

    class Meta:
        ref_name = "StaffInvoice"


class InvoiceDetailOutputSerializer(InvoiceOutputSerializer):
    lines = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField(help_text="id of the corrected invoice that replaced this void one")
    disputes = serializers.SerializerMethodField(help_text="each dispute of the invoice, oldest first")

    def get_replaced_by(self, invoice) -> int | None:
        replaced_by = getattr(invoice, "replaced_by", None)  # a missing reverse one-to-one is an AttributeError
        return replaced_by.pk if replaced_by is not None else None

    def get_lines(self, invoice) -> list[dict]:
        return InvoiceLineOutputSerializer(invoice_lines(invoice=invoice), many=True).data

    @extend_schema_field(InvoiceDisputeOutputSerializer(many=True))
    def get_disputes(self, invoice) -> list[dict]:
        return InvoiceDisputeOutputSerializer(invoice_disputes(invoice=invoice), many=True).data


class InvoiceFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["open", "paid", "disputed", "void"], required=False)


class MeInvoiceListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "paid", "disputed", "void"])],
                   responses=InvoiceOutputSerializer(many=True), summary="Your invoices, newest first")
    def get(self, request: Request) -> Response:
        filters = InvoiceFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        invoices = invoice_list(actor=request.user, purpose=Purpose.SELF_SERVICE,
                                status=filters.validated_data.get("status"))
        return Response(InvoiceOutputSerializer(invoices, many=True).data)


class MeInvoiceDetailApi(APIView):
    @extend_schema(responses=InvoiceDetailOutputSerializer, summary="One of your invoices with its lines and disputes")
    def get(self, request: Request, invoice_id: int) -> Response:
        invoice = invoice_get(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice_id=invoice_id)
        return Response(InvoiceDetailOutputSerializer(invoice).data)


class PdfRenderer(BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; an error answer is still JSON."""
    media_type = "application/pdf"
    format = "pdf"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class MeInvoicePdfApi(APIView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY},
                   summary="One of your invoices as a PDF (supplier, customer, lines, VAT, totals)")
    def get(self, request: Request, invoice_id: int):
        invoice, pdf = invoice_pdf(actor=request.user, purpose=Purpose.SELF_SERVICE, invoice_id=invoice_id)
        return pdf_response(invoice, pdf)


STAFF_PAGE_MAX = 200  # the most a page holds; the list was once cut there, now it only bounds one page


class StaffInvoiceFilterSerializer(InvoiceFilterSerializer):
    number = serializers.CharField(required=False, max_length=32, allow_blank=True)
    cursor = serializers.CharField(required=False, max_length=200, allow_blank=True)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=STAFF_PAGE_MAX, default=50)


class StaffInvoiceListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class PageSerializer(serializers.Serializer):
        results = StaffInvoiceOutput(many=True, source="rows")
        next_cursor = serializers.CharField(allow_null=True, help_text="Opaque; give it as `cursor` for the next page")
        next = serializers.SerializerMethodField(help_text="The next (older) page with the same filters; null on the "
                                                           "last page")

        class Meta:
            ref_name = "StaffInvoicePage"

        def get_next(self, page) -> str | None:
            return self.context["next"]

    @extend_schema(parameters=[
        OpenApiParameter("status", OpenApiTypes.STR, enum=["open", "paid", "disputed", "void"]),
        OpenApiParameter("number", OpenApiTypes.STR, description="Invoices whose number starts with this, any case "
                                                                 "(INV-2026, INV-202603-000042)"),
        OpenApiParameter("cursor", OpenApiTypes.STR, description="Opaque `next_cursor` of the previous page"),
        OpenApiParameter("limit", OpenApiTypes.INT, description=f"Page size, 1-{STAFF_PAGE_MAX} (default 50)"),
    ], responses=PageSerializer, summary="All invoices, newest month first (billing; keyset pages: follow next)")
    def get(self, request: Request) -> Response:
        filters = StaffInvoiceFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        page = invoice_page(actor=request.user, purpose=Purpose.BILLING, status=data.get("status"),
                            number=(data.get("number") or "").strip() or None, after=data.get("cursor") or None,
                            limit=data["limit"], disputes=True)
        return Response(self.PageSerializer(page, context={"next": _next_link(request, page.next_cursor)}).data)


def _next_link(request: Request, cursor: str | None) -> str | None:
    """This request's address with `cursor` replaced, so the filters and the page size hold on the next page."""
    if cursor is None:
        return None
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class StaffInvoicePaidApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    @extend_schema(request=None, responses=InvoiceOutputSerializer, summary="Mark an open invoice paid")
    def post(self, request: Request, invoice_id: int) -> Response:
        invoice = invoice_get(actor=request.user, purpose=Purpose.BILLING, invoice_id=invoice_id)
        invoice = invoice_mark_paid(invoice=invoice, actor=request.user)
        return Response(InvoiceOutputSerializer(invoice).data)


class StaffInvoiceDisputeApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    @extend_schema(request=None, responses=InvoiceOutputSerializer,
                   summary="Record a dispute on an open or paid invoice (within its dispute window)")
    def post(self, request: Request, invoice_id: int) -> Response:
        invoice = invoice_get(actor=request.user, purpose=Purpose.DISPUTE, invoice_id=invoice_id)
        invoice = invoice_dispute(invoice=invoice, actor=request.user)
        return Response(InvoiceOutputSerializer(invoice).data)


class StaffInvoiceReissueApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    @extend_schema(request=None, responses={201: InvoiceOutputSerializer},
                   summary="Replace a void invoice by a corrected one for the same month, from its calls")
    def post(self, request: Request, invoice_id: int) -> Response:
        invoice = invoice_get(actor=request.user, purpose=Purpose.BILLING, invoice_id=invoice_id)
        invoice = invoice_reissue(invoice=invoice, actor=request.user)
        return Response(InvoiceOutputSerializer(invoice).data, status=status.HTTP_201_CREATED)
