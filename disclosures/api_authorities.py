"""The register of authorities through the legal officers' API (/api/v1/staff/disclosures/authorities/): list,
add, verify the channels, the e-mail domains and the encryption certificate, whose changes one officer proposes
and another confirms (services/authorities.py). One APIView per operation; the services do the work."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from .api import OfficerApi
from .models import Authority, AuthorityKind
from .selectors import authority_list
from .services.authorities import (
    authority_certificate_confirm,
    authority_certificate_discard,
    authority_certificate_set,
    authority_create,
    authority_domains_confirm,
    authority_domains_discard,
    authority_domains_set,
    authority_verify,
)


class AuthorityOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()
    email_domains = serializers.ListField(child=serializers.CharField())
    # A change of the list waiting for a second officer: the list proposed ([] with a time: no domain), when, by whom.
    email_domains_proposed = serializers.ListField(child=serializers.CharField())
    email_domains_proposed_at = serializers.DateTimeField(allow_null=True)
    email_domains_proposed_by = serializers.IntegerField(source="email_domains_proposed_by_id", allow_null=True)
    certificate_sha256 = serializers.CharField()  # "": none on file
    certificate_not_after = serializers.DateTimeField(allow_null=True)
    # A change waiting for a second officer: the fingerprint proposed ("" with a time: removal), when and by whom.
    certificate_proposed_sha256 = serializers.CharField()
    certificate_proposed_at = serializers.DateTimeField(allow_null=True)
    certificate_proposed_by = serializers.IntegerField(source="certificate_proposed_by_id", allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    verified_by = serializers.IntegerField(source="verified_by_id", allow_null=True)
    active = serializers.BooleanField()


class AuthorityListApi(OfficerApi):
    @extend_schema(responses=AuthorityOutputSerializer(many=True), summary="The register of authorities")
    def get(self, request: Request) -> Response:
        return Response(AuthorityOutputSerializer(authority_list(actor=request.user), many=True).data)


class AuthorityCreateApi(OfficerApi):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        kind = serializers.ChoiceField(choices=AuthorityKind.choices)
        contact_phone = serializers.CharField(max_length=30)
        contact_email = serializers.EmailField(required=False, default="")
        email_domains = serializers.ListField(child=serializers.CharField(max_length=253), required=False, default=list)

    @extend_schema(request=InputSerializer, responses={201: AuthorityOutputSerializer}, summary="Add an authority")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authority = authority_create(actor=request.user, **data.validated_data)
        return Response(AuthorityOutputSerializer(authority).data, status=status.HTTP_201_CREATED)


class AuthorityVerifyApi(OfficerApi):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=300)

    @extend_schema(request=InputSerializer, responses=AuthorityOutputSerializer, summary="Record the channels as verified")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authority = authority_verify(actor=request.user, authority=get_object_or_404(Authority, pk=pk),
                                     note=data.validated_data["note"])
        return Response(AuthorityOutputSerializer(authority).data)


class AuthorityDomainsApi(OfficerApi):
    class InputSerializer(serializers.Serializer):
        email_domains = serializers.ListField(child=serializers.CharField(max_length=253), allow_empty=True)

    @extend_schema(request=InputSerializer, responses=AuthorityOutputSerializer,
                   summary="Propose the e-mail domains the authority sends from (others are flagged). It takes "
                           "effect when another legal officer confirms it")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authority = authority_domains_set(actor=request.user, authority=get_object_or_404(Authority, pk=pk),
                                          email_domains=data.validated_data["email_domains"])
        return Response(AuthorityOutputSerializer(authority).data)


class AuthorityDomainsConfirmApi(OfficerApi):
    class InputSerializer(serializers.Serializer):
        proposed_domains = serializers.ListField(child=serializers.CharField(max_length=253), allow_empty=True,
                                                 max_length=100,
                                                 help_text="the list checked with the authority; []: no domain")

    @extend_schema(request=InputSerializer, responses=AuthorityOutputSerializer,
                   summary="Confirm the waiting change of the e-mail domains (another officer than the one who "
                           "proposed it)")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authority = authority_domains_confirm(actor=request.user, authority=get_object_or_404(Authority, pk=pk),
                                              proposed_domains=data.validated_data["proposed_domains"])
        return Response(AuthorityOutputSerializer(authority).data)


class AuthorityDomainsDiscardApi(OfficerApi):
    @extend_schema(request=None, responses=AuthorityOutputSerializer,
                   summary="Discard the waiting change of the e-mail domains")
    def post(self, request: Request, pk: int) -> Response:
        authority = authority_domains_discard(actor=request.user, authority=get_object_or_404(Authority, pk=pk))
        return Response(AuthorityOutputSerializer(authority).data)


class AuthorityCertificateApi(OfficerApi):
    class InputSerializer(serializers.Serializer):
        certificate = serializers.CharField(max_length=20_000, allow_blank=True, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses=AuthorityOutputSerializer,
                   summary="Propose the certificate packages are encrypted to (PEM; empty: remove it). It takes "
                           "effect when another legal officer confirms it")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authority = authority_certificate_set(actor=request.user, authority=get_object_or_404(Authority, pk=pk),
                                              certificate=data.validated_data["certificate"])
        return Response(AuthorityOutputSerializer(authority).data)


class AuthorityCertificateConfirmApi(OfficerApi):
    class InputSerializer(serializers.Serializer):
        proposed_sha256 = serializers.CharField(max_length=64, allow_blank=True,
                                                help_text="the fingerprint compared with the authority; \"\": a removal")

    @extend_schema(request=InputSerializer, responses=AuthorityOutputSerializer,
                   summary="Confirm the waiting certificate change (another officer than the one who proposed it)")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        authority = authority_certificate_confirm(actor=request.user, authority=get_object_or_404(Authority, pk=pk),
                                                  proposed_sha256=data.validated_data["proposed_sha256"])
        return Response(AuthorityOutputSerializer(authority).data)


class AuthorityCertificateDiscardApi(OfficerApi):
    @extend_schema(request=None, responses=AuthorityOutputSerializer, summary="Discard the waiting certificate change")
    def post(self, request: Request, pk: int) -> Response:
        authority = authority_certificate_discard(actor=request.user, authority=get_object_or_404(Authority, pk=pk))
        return Response(AuthorityOutputSerializer(authority).data)
