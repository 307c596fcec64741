"""Legal officers' API under /api/v1/staff/disclosures/ (the register of authorities: api_authorities.py) and
the customer's own notices under
/api/v1/me/disclosure-notices/. One APIView per operation; services and selectors do the work. The
steps on a request (RequestVerifyApi ... RequestSendNoticesApi) each name their row of the table in
transitions.py, which the pages dispatch through too: the service, the input fields, the role."""
from __future__ import annotations

import base64
import binascii
from typing import ClassVar

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext_noop
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from traffic.exports import csv_lines
from voipxs.api_fields import DateTimeInput, IdInput
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Role, has_role

from .bases import CONTENT, CONTENT_LABEL
from .models import Authority, DataCategory, LegalBasis
from .selectors import (
    disclosure_deadlines,
    disclosure_request_get,
    disclosure_request_list,
    notice_list_for_user,
    transparency_report,
    transparency_rows,
)
from .services.checks import NOT_LEGAL_OFFICER
from .services.intake import (
    ReceivedDocument, disclosure_document_add, disclosure_request_take_in, document_refused_at,
)
from .services.packages import disclosure_package_download, package_content_type
from .transitions import CLAIMED_TYPE_HELP, DOCUMENT_HELP, DOCUMENT_NOT_BASE64, TRANSITIONS, Base64ContentField

ORDER_WITHOUT_DOCUMENT = "Send the written order in document_base64, or leave document_is_order false."


class IsLegalOfficer(BasePermission):
    message = NOT_LEGAL_OFFICER

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.LEGAL_OFFICER)


class MayTakeStep(BasePermission):
    """The role the view's row of TRANSITIONS names (checked before the input is read)."""

    message = NOT_LEGAL_OFFICER

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, TRANSITIONS[view.step].role)


class OfficerApi(APIView):
    permission_classes = [*APIView.permission_classes, IsLegalOfficer]


class RequestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    authority = serializers.IntegerField(source="authority_id")
    legal_basis = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    max_hits = serializers.IntegerField(allow_null=True)  # the authority's cap on records (ETSI maxHits); null: none
    deadline = serializers.DateTimeField()
    emergency = serializers.BooleanField()
    oral_order = serializers.BooleanField()
    awaiting_written_order = serializers.BooleanField()
    written_order_missing = serializers.BooleanField()
    sender_domain = serializers.CharField()  # "": no sender (by phone, on paper, in person)
    sender_domain_listed = serializers.BooleanField(allow_null=True)
    sender_unlisted = serializers.BooleanField()
    secrecy_until = serializers.DateField(allow_null=True)
    notice_user = serializers.BooleanField()
    notice_withheld_reason = serializers.CharField()
    notice_review_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    outcome = serializers.CharField()
    received_by = serializers.IntegerField(source="received_by_id")
    approvers = serializers.SerializerMethodField()
    checked_by = serializers.IntegerField(source="checked_by_id", allow_null=True)
    target_count = serializers.IntegerField()
    hold = serializers.IntegerField(source="hold_id", allow_null=True)
    production_error = serializers.CharField()
    received_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(allow_null=True)
    sla_stage = serializers.CharField()
    written_order_due_at = serializers.DateTimeField(allow_null=True)
    written_order_at = serializers.DateTimeField(allow_null=True)
    breach_flagged_at = serializers.DateTimeField(allow_null=True)
    breach_incident = serializers.IntegerField(source="breach_incident_id", allow_null=True)
    preserve_until = serializers.DateTimeField(allow_null=True)
    renewed_at = serializers.DateTimeField(allow_null=True)
    renewal_reference = serializers.CharField()
    converted_to = serializers.IntegerField(source="converted_to_id", allow_null=True)
    delivery_sha256 = serializers.CharField()  # of the file handed over (.p7m, or the ZIP on an encrypted channel)
    delivery_encrypted_to = serializers.CharField()  # the certificate's SHA-256; "": not encrypted

    def get_approvers(self, obj) -> list[int]:
        return sorted(obj.approvals.values_list("officer_id", flat=True))


class RequestListApi(OfficerApi):
    class FilterSerializer(serializers.Serializer):
        open = serializers.BooleanField(required=False, default=False)

    @extend_schema(parameters=[FilterSerializer], responses=RequestOutputSerializer(many=True), summary="Requests, by deadline")
    def get(self, request: Request) -> Response:
        f = self.FilterSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        qs = disclosure_request_list(actor=request.user, open_only=f.validated_data["open"]).prefetch_related("approvals")
        return Response(RequestOutputSerializer(qs[:500], many=True).data)


class RequestReceiveApi(OfficerApi):
    class InputSerializer(serializers.Serializer):
        authority = IdInput()
        reference = serializers.CharField(max_length=100)
        legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
        # "content" is taken, to be refused by intake with its own answer ("no data", bases.CONTENT).
        categories = serializers.ListField(child=serializers.ChoiceField(
            choices=[*DataCategory.choices, (CONTENT, CONTENT_LABEL)]), min_length=1)
        numbers = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
        account_ids = serializers.ListField(child=IdInput(), required=False, default=list)
        window_start = DateTimeInput()
        window_end = DateTimeInput()
        # ETSI maxHits, the authority's cap on the number of records: checked by intake (max_hits_check, 1 to
        # MAX_HITS_LIMIT), which refuses naming this field. Left out or null: no cap.
        max_hits = serializers.IntegerField(required=False, allow_null=True, default=None)
        # Optional where the basis sets it (EPOC: 10 days / 8 hours; preservation: its term); never later.
        deadline = DateTimeInput(required=False, allow_null=True, default=None)
        emergency = serializers.BooleanField(required=False, default=False)
        # By phone or in person: its written order is due within DISCLOSURE_WRITTEN_ORDER_DAYS (Sv 126ni(3)).
        oral_order = serializers.BooleanField(required=False, default=False)
        secrecy_until = serializers.DateField(required=False, allow_null=True, default=None)
        # Left out: as the basis says (bases.py). A withheld notice takes a reason (criminal-procedure and
        # European orders have a default) and a review date (by default DISCLOSURE_NOTICE_REVIEW_DAYS on).
        notice_user = serializers.BooleanField(required=False, allow_null=True, default=None)
        notice_withheld_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        notice_review_on = serializers.DateField(required=False, allow_null=True, default=None)
        # The address an e-mailed request came from: only its domain is kept (and flagged if not listed).
        received_from = serializers.EmailField(required=False, allow_blank=True, default="")
        # The document the request came with (the order, the request letter), as DocumentAddApi takes one; checked
        # before anything is stored, so a refused one leaves no request behind.
        document_base64 = Base64ContentField(max_length=20_000_000, required=False, help_text=DOCUMENT_HELP)
        document_title = serializers.CharField(max_length=200, required=False, default="")
        document_content_type = serializers.CharField(max_length=100, required=False,
                                                      default="application/octet-stream", help_text=CLAIMED_TYPE_HELP)
        document_is_order = serializers.BooleanField(required=False, default=False)

        def validate(self, attrs: dict) -> dict:
            if attrs.get("document_is_order") and "document_base64" not in attrs:
                raise serializers.ValidationError({"document_base64": ORDER_WITHOUT_DOCUMENT})
            return attrs

    @extend_schema(request=InputSerializer, responses={201: RequestOutputSerializer},
                   summary="Take a request in (places a legal hold), with the document it came with")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        authority = Authority.objects.filter(pk=d.pop("authority")).first()
        if authority is None:
            raise ApplicationError(gettext_noop("Unknown authority."), extra={"field": "authority"})
        upload = {"title": d.pop("document_title"), "content_type": d.pop("document_content_type"),
                  "is_written_order": d.pop("document_is_order")}
        content = d.pop("document_base64", None)
        document = None if content is None else ReceivedDocument(content=content, **upload)
        with document_refused_at("document_base64"):
            req = disclosure_request_take_in(actor=request.user, authority=authority, document=document, **d)
        return Response(RequestOutputSerializer(req).data, status=status.HTTP_201_CREATED)


class RequestDetailApi(OfficerApi):
    @extend_schema(responses=RequestOutputSerializer, summary="One request")
    def get(self, request: Request, pk: int) -> Response:
        return Response(RequestOutputSerializer(disclosure_request_get(actor=request.user, pk=pk)).data)


class TransitionApi(APIView):
    """A POST that runs one service on one request and answers with the request."""

    permission_classes = [*APIView.permission_classes, MayTakeStep]
    # The row of TRANSITIONS this operation runs; set by each subclass, which gets its InputSerializer
    # and its schema from that row.
    step: ClassVar[str]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        row = TRANSITIONS[cls.step]
        attrs = {**row.fields, "__module__": cls.__module__, "__qualname__": f"{cls.__qualname__}.InputSerializer"}
        cls.InputSerializer = type("InputSerializer", (serializers.Serializer,), attrs)
        extend_schema(request=cls.InputSerializer if row.fields else None, responses=RequestOutputSerializer,
                      summary=row.summary)(cls)

    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        req = disclosure_request_get(actor=request.user, pk=pk)
        TRANSITIONS[self.step].run(actor=request.user, request=req, inputs=data.validated_data)
        return Response(RequestOutputSerializer(disclosure_request_get(actor=request.user, pk=pk)).data)


class RequestVerifyApi(TransitionApi):
    step = "verify"


class RequestReviewApi(TransitionApi):
    step = "review"


class RequestClarifyApi(TransitionApi):
    step = "clarify"


class RequestResumeApi(TransitionApi):
    step = "resume"


class RequestApproveApi(TransitionApi):
    step = "approve"


class RequestRejectApi(TransitionApi):
    step = "reject"


class RequestWithdrawApi(TransitionApi):
    step = "withdraw"


class RequestNarrowApi(TransitionApi):
    step = "narrow"


class RequestProduceApi(TransitionApi):
    step = "produce"


class RequestCheckApi(TransitionApi):
    step = "check"


class RequestDeliverApi(TransitionApi):
    step = "deliver"


class RequestCloseApi(TransitionApi):
    step = "close"


class RequestSendNoticesApi(TransitionApi):
    step = "send-notices"


class RequestRenewApi(TransitionApi):
    step = "renew"


class RequestConvertApi(TransitionApi):
    step = "convert"


class RequestNoticeDecisionApi(TransitionApi):
    step = "notice-decision"


class DocumentAddApi(OfficerApi):
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        content_base64 = serializers.CharField(max_length=20_000_000, help_text=DOCUMENT_HELP)
        content_type = serializers.CharField(max_length=100, required=False, default="application/octet-stream",
                                             help_text=CLAIMED_TYPE_HELP)
        is_written_order = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        title = serializers.CharField()
        content_type = serializers.CharField()  # read from the file's bytes
        size = serializers.IntegerField()
        sha256 = serializers.CharField()
        is_written_order = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, summary="Add a received document (stored encrypted)")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        try:
            content = base64.b64decode(d.pop("content_base64"), validate=True)
        except (binascii.Error, ValueError):
            raise ApplicationError(DOCUMENT_NOT_BASE64, extra={"field": "content_base64"}) from None
        req = disclosure_request_get(actor=request.user, pk=pk)
        with document_refused_at("content_base64"):
            doc = disclosure_document_add(actor=request.user, request=req, content=content, **d)
        return Response(self.OutputSerializer(doc).data, status=status.HTTP_201_CREATED)


class PackageDownloadApi(OfficerApi):
    @extend_schema(responses={(200, "application/pkcs7-mime"): OpenApiTypes.BINARY, (200, "application/zip"):
                              OpenApiTypes.BINARY}, summary="The package: .p7m to the certificate, else ZIP (logged)")
    def get(self, request: Request, pk: int) -> FileResponse:
        req = disclosure_request_get(actor=request.user, pk=pk)
        name, file = disclosure_package_download(actor=request.user, request=req)
        # Streamed from the temporary file the service made (closed, and so deleted, once sent).
        response = FileResponse(file, as_attachment=True, filename=name, content_type=package_content_type(name))
        response["Cache-Control"] = "no-store"
        return response


class DeadlinesApi(OfficerApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="request.pk")
        reference = serializers.CharField(source="request.reference")
        status = serializers.CharField(source="request.status")
        deadline = serializers.DateTimeField(source="request.deadline")
        emergency = serializers.BooleanField(source="request.emergency")
        sender_unlisted = serializers.BooleanField(source="request.sender_unlisted")
        hours_left = serializers.FloatField()
        overdue = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer(many=True), summary="Open requests by due time")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(disclosure_deadlines(actor=request.user), many=True).data)


class TransparencyReportApi(OfficerApi):
    class FilterSerializer(serializers.Serializer):
        year = serializers.IntegerField(min_value=2000, max_value=2100)
        half = serializers.ChoiceField(choices=[1, 2])
        format = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")

    @extend_schema(parameters=[FilterSerializer], responses={200: OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
                   summary="Transparency report of a half-year (small counts suppressed)")
    def get(self, request: Request):
        f = self.FilterSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        report = transparency_report(actor=request.user, year=f.validated_data["year"], half=int(f.validated_data["half"]))
        if f.validated_data["format"] == "csv":
            return HttpResponse("".join(csv_lines(transparency_rows(report))), content_type="text/csv; charset=utf-8")
        return Response(report)


class MyNoticesApi(APIView):
    class OutputSerializer(serializers.Serializer):
        sent_at = serializers.DateTimeField()
        authority_kind = serializers.CharField(source="request.authority.kind")
        legal_basis = serializers.CharField(source="request.legal_basis")
        window_start = serializers.DateTimeField(source="request.window_start")
        window_end = serializers.DateTimeField(source="request.window_end")

    @extend_schema(responses=OutputSerializer(many=True), summary="Disclosures of my data that I have been told about")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(notice_list_for_user(actor=request.user), many=True).data)


