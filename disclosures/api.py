"""Legal officers' API under /api/v1/staff/disclosures/ and the customer's own notices under
/api/v1/me/disclosure-notices/. One APIView per operation; services and selectors do the work."""
from __future__ import annotations

import base64
import binascii

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Role, has_role

from . import services
from .models import Authority, AuthorityKind, DataCategory, LegalBasis
from .selectors import (
    authority_list,
    disclosure_deadlines,
    disclosure_request_get,
    disclosure_request_list,
    notice_list_for_user,
    transparency_report,
    transparency_rows,
)

DOCUMENT_NOT_BASE64 = "The document must be base64-encoded."


class IsLegalOfficer(BasePermission):
    message = "Only legal officers handle disclosure requests."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.LEGAL_OFFICER)


class _OfficerApi(APIView):
    permission_classes = [*APIView.permission_classes, IsLegalOfficer]


class AuthorityOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()
    verified_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()


class RequestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    authority = serializers.IntegerField(source="authority_id")
    legal_basis = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    window_start = serializers.DateTimeField()
    window_end = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    emergency = serializers.BooleanField()
    awaiting_written_order = serializers.BooleanField()
    secrecy_until = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    outcome = serializers.CharField()
    received_by = serializers.IntegerField(source="received_by_id")
    approvers = serializers.SerializerMethodField()
    checked_by = serializers.IntegerField(source="checked_by_id", allow_null=True)
    target_count = serializers.IntegerField()
    hold = serializers.IntegerField(source="hold_id", allow_null=True)
    production_error = serializers.CharField()

    def get_approvers(self, obj) -> list[int]:
        return sorted(obj.approvals.values_list("officer_id", flat=True))


class AuthorityListApi(_OfficerApi):
    @extend_schema(responses=AuthorityOutputSerializer(many=True), summary="The register of authorities")
    def get(self, request: Request) -> Response:
        return Response(AuthorityOutputSerializer(authority_list(actor=request.user), many=True).data)


class AuthorityCreateApi(_OfficerApi):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(choices=AuthorityKind.choices)
        contact_phone = serializers.CharField(max_length=30)
        contact_email = serializers.EmailField(required=False, default="")

    @extend_schema(request=InputSerializer, responses={201: AuthorityOutputSerializer}, summary="Add an authority")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authority = services.authority_create(actor=request.user, **data.validated_data)
        return Response(AuthorityOutputSerializer(authority).data, status=status.HTTP_201_CREATED)


class AuthorityVerifyApi(_OfficerApi):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=300)

    @extend_schema(request=InputSerializer, responses=AuthorityOutputSerializer, summary="Record the channels as verified")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authority = services.authority_verify(actor=request.user, authority=get_object_or_404(Authority, pk=pk),
                                              note=data.validated_data["note"])
        return Response(AuthorityOutputSerializer(authority).data)


class RequestListApi(_OfficerApi):
    class FilterSerializer(serializers.Serializer):
        open = serializers.BooleanField(required=False, default=False)

    @extend_schema(parameters=[FilterSerializer], responses=RequestOutputSerializer(many=True), summary="Requests, by deadline")
    def get(self, request: Request) -> Response:
        f = self.FilterSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        qs = disclosure_request_list(actor=request.user, open_only=f.validated_data["open"]).prefetch_related("approvals")
        return Response(RequestOutputSerializer(qs[:500], many=True).data)


class RequestReceiveApi(_OfficerApi):
    class InputSerializer(serializers.Serializer):
        authority = serializers.IntegerField(min_value=1)
        reference = serializers.CharField(max_length=100)
        legal_basis = serializers.ChoiceField(choices=LegalBasis.choices)
        categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices), min_length=1)
        numbers = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
        account_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
        window_start = serializers.DateTimeField()
        window_end = serializers.DateTimeField()
        deadline = serializers.DateTimeField()
        emergency = serializers.BooleanField(required=False, default=False)
        secrecy_until = serializers.DateField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: RequestOutputSerializer}, summary="Take a request in (places a legal hold)")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = dict(data.validated_data)
        authority = Authority.objects.filter(pk=d.pop("authority")).first()
        if authority is None:
            raise ApplicationError("Unknown authority.", extra={"field": "authority"})
        req = services.disclosure_request_receive(actor=request.user, authority=authority, **d)
        return Response(RequestOutputSerializer(req).data, status=status.HTTP_201_CREATED)


class RequestDetailApi(_OfficerApi):
    @extend_schema(responses=RequestOutputSerializer, summary="One request")
    def get(self, request: Request, pk: int) -> Response:
        return Response(RequestOutputSerializer(disclosure_request_get(actor=request.user, pk=pk)).data)


class _TransitionApi(_OfficerApi):
    """A POST that runs one service on one request and answers with the request."""

    class InputSerializer(serializers.Serializer):
        pass

    # runner(officer, request object, validated data): the one service of this transition; set by _transition().
    runner: staticmethod

    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        req = disclosure_request_get(actor=request.user, pk=pk)
        type(self).runner(request.user, req, dict(data.validated_data))
        return Response(RequestOutputSerializer(disclosure_request_get(actor=request.user, pk=pk)).data)


def _transition(name: str, summary: str, runner, fields: dict | None = None) -> type[_TransitionApi]:
    input_cls = type("InputSerializer", (serializers.Serializer,), dict(fields or {}))
    input_cls.__qualname__ = f"{name}.InputSerializer"

    # A function of its own per view: extend_schema annotates the function object it is given.
    def post(self, request: Request, pk: int) -> Response:
        return _TransitionApi.post(self, request, pk)

    post = extend_schema(request=input_cls if fields else None, responses=RequestOutputSerializer, summary=summary)(post)
    return type(name, (_TransitionApi,), {"InputSerializer": input_cls, "post": post, "__module__": __name__,
                                          "runner": staticmethod(runner)})


_note = {"note": serializers.CharField(max_length=500, required=False, default="")}
_note_required = {"note": serializers.CharField(max_length=500)}

RequestVerifyApi = _transition(
    "RequestVerifyApi", "Record the out-of-band callback on a register channel",
    lambda u, r, d: services.disclosure_request_verify_authority(actor=u, request=r, **d),
    {"channel": serializers.ChoiceField(choices=[("phone", "phone"), ("email", "email")]), **_note})
RequestReviewApi = _transition("RequestReviewApi", "Start the legal review",
                               lambda u, r, d: services.disclosure_request_start_review(actor=u, request=r))
RequestClarifyApi = _transition("RequestClarifyApi", "Ask the authority for clarification",
                                lambda u, r, d: services.disclosure_request_ask_clarification(actor=u, request=r, **d),
                                _note_required)
RequestResumeApi = _transition("RequestResumeApi", "Resume the review after a clarification",
                               lambda u, r, d: services.disclosure_request_resume_review(actor=u, request=r))
RequestApproveApi = _transition("RequestApproveApi", "Approve (two officers, neither the intake)",
                                lambda u, r, d: services.disclosure_request_approve(actor=u, request=r))
RequestRejectApi = _transition("RequestRejectApi", "Reject the request",
                               lambda u, r, d: services.disclosure_request_reject(actor=u, request=r, reason=d["note"]),
                               _note_required)
RequestWithdrawApi = _transition("RequestWithdrawApi", "Record that the authority withdrew the request",
                                 lambda u, r, d: services.disclosure_request_withdraw(actor=u, request=r, **d), _note)
RequestNarrowApi = _transition(
    "RequestNarrowApi", "Narrow the scope (only shrinks; approvals start again)",
    lambda u, r, d: services.disclosure_request_narrow(actor=u, request=r, **d),
    {"remove_target_ids": serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list),
     "window_start": serializers.DateTimeField(required=False, allow_null=True, default=None),
     "window_end": serializers.DateTimeField(required=False, allow_null=True, default=None),
     "categories": serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices), required=False,
                                         allow_null=True, default=None)})
RequestProduceApi = _transition("RequestProduceApi", "Queue the production of the package",
                                lambda u, r, d: services.disclosure_production_start(actor=u, request=r))
RequestCheckApi = _transition("RequestCheckApi", "Record the output check (another officer than the producer)",
                              lambda u, r, d: services.disclosure_output_check(actor=u, request=r))
RequestDeliverApi = _transition("RequestDeliverApi", "Mark delivered with the authority's receipt",
                                lambda u, r, d: services.disclosure_request_deliver(actor=u, request=r, **d),
                                {"receipt": serializers.CharField(max_length=300)})
RequestCloseApi = _transition("RequestCloseApi", "Close the request (hold released after the grace period)",
                              lambda u, r, d: services.disclosure_request_close(actor=u, request=r))


RequestSendNoticesApi = _transition(
    "RequestSendNoticesApi", "Send the withheld notices of a request once its secrecy order has ended",
    lambda u, r, d: [services.disclosure_notice_send(actor=u, notice=n) for n in r.notices.filter(state="withheld")])


class DocumentAddApi(_OfficerApi):
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        content_base64 = serializers.CharField(max_length=20_000_000)
        content_type = serializers.CharField(max_length=100, required=False, default="application/octet-stream")
        is_written_order = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        title = serializers.CharField()
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
        doc = services.disclosure_document_add(actor=request.user, request=req, content=content, **d)
        return Response(self.OutputSerializer(doc).data, status=status.HTTP_201_CREATED)


class PackageDownloadApi(_OfficerApi):
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY}, summary="Download the package ZIP (logged)")
    def get(self, request: Request, pk: int) -> HttpResponse:
        req = disclosure_request_get(actor=request.user, pk=pk)
        name, data = services.disclosure_package_download(actor=request.user, request=req)
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class DeadlinesApi(_OfficerApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="request.pk")
        reference = serializers.CharField(source="request.reference")
        status = serializers.CharField(source="request.status")
        deadline = serializers.DateTimeField(source="request.deadline")
        emergency = serializers.BooleanField(source="request.emergency")
        hours_left = serializers.FloatField()
        overdue = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer(many=True), summary="Open requests by due time")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(disclosure_deadlines(actor=request.user), many=True).data)


class TransparencyReportApi(_OfficerApi):
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
            from traffic.exports import csv_lines

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


