"""Invoices through the API: a customer's own invoices with their lines, and billing staff's list of
all invoices and the state transitions (paid, dispute, reissue). Lines are aggregates per zone and
month: no numbers."""
from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voipxs.privacy.purposes import Purpose

from ..invoice_pdf import pdf_response
from ..selectors.invoices import invoice_get, invoice_lines, invoice_list, invoice_pdf
from ..services.invoices import invoice_dispute, invoice_mark_paid, invoice_reissue
from .permissions import IsBilling

class InvoiceLineOutputSerializer(serializers.Serializer):
    zone = serializers.CharField()
    month = serializers.DateField()
    calls = serializers.IntegerField()
    seconds = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="excl. VAT")


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


class InvoiceDetailOutputSerializer(InvoiceOutputSerializer):
    lines = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField(help_text="id of the corrected invoice that replaced this void one")

    def get_replaced_by(self, invoice) -> int | None:
        replaced_by = getattr(invoice, "replaced_by", None)  # a missing reverse one-to-one is an AttributeError
        return replaced_by.pk if replaced_by is not None else None

    def get_lines(self, invoice) -> list[dict]:
        return InvoiceLineOutputSerializer(invoice_lines(invoice=invoice), many=True).data


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
    @extend_schema(responses=InvoiceDetailOutputSerializer, summary="One of your invoices with its lines")
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
        invoices = invoice_list(actor=request.user, purpose=Purpose.BILLING,
                                status=filters.validated_data.get("status"))
        return Response(self.OutputSerializer(invoices, many=True).data)


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
