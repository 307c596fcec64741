"""DPO API under /api/v1/staff/retention/: policies (with history), holds (place, release), receipts,
and a dry run. One APIView per operation; services and selectors do the work."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_noop
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voipxs.api_fields import DateTimeInput, IdInput
from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, Role, has_role

from .models import Category, LegalHold, RetentionPolicy
from .purge.run import purge_expired
from .selectors import legal_hold_list, purge_receipt_list, retention_policy_history
from .services import legal_hold_place, legal_hold_release, retention_policy_update

UNKNOWN_CATEGORY = gettext_noop("Unknown data category.")


class IsDpo(BasePermission):
    message = "Only the data protection officer manages retention."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, Role.DPO)


class PolicyOutputSerializer(serializers.Serializer):
    category = serializers.CharField()
    version = serializers.IntegerField()
    trigger = serializers.CharField()
    period_months = serializers.IntegerField()
    period_days = serializers.IntegerField()
    action = serializers.CharField()
    legal_basis = serializers.CharField()
    valid_from = serializers.DateTimeField()
    change_reason = serializers.CharField()


class HoldOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()
    reference = serializers.CharField()
    accounts = serializers.SerializerMethodField()
    numbers = serializers.SerializerMethodField()
    categories = serializers.ListField(child=serializers.CharField())
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    starts_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    released_at = serializers.DateTimeField(allow_null=True)

    def get_accounts(self, hold: LegalHold) -> int:
        return len(hold.account_ids)

    def get_numbers(self, hold: LegalHold) -> int:
        return len(hold.number_indexes)


class PolicyListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsDpo]

    @extend_schema(responses=PolicyOutputSerializer(many=True), summary="Every version of every retention policy")
    def get(self, request: Request) -> Response:
        return Response(PolicyOutputSerializer(retention_policy_history(), many=True).data)


class PolicyUpdateApi(APIView):
    permission_classes = [*APIView.permission_classes, IsDpo]

    class InputSerializer(serializers.Serializer):
        trigger = serializers.CharField(max_length=200, required=False)
        period_months = serializers.IntegerField(min_value=0, max_value=1200, required=False)
        period_days = serializers.IntegerField(min_value=0, max_value=36500, required=False)
        action = serializers.ChoiceField(choices=RetentionPolicy.Action.choices, required=False)
        legal_basis = serializers.CharField(max_length=200, required=False)
        change_reason = serializers.CharField(max_length=300)

    @extend_schema(request=InputSerializer, responses={201: PolicyOutputSerializer}, summary="Add a policy version")
    def post(self, request: Request, category: str) -> Response:
        if category not in Category.values:
            raise ApplicationError(UNKNOWN_CATEGORY, extra={"field": "category"})
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = retention_policy_update(category=category, actor=request.user, **data.validated_data)
        return Response(PolicyOutputSerializer(policy).data, status=status.HTTP_201_CREATED)


class HoldListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsDpo]

    @extend_schema(responses=HoldOutputSerializer(many=True), summary="Legal holds (counts of scope, never numbers)")
    def get(self, request: Request) -> Response:
        holds = legal_hold_list(actor=request.user, purpose=Purpose.LEGAL_OBLIGATION)[:500]
        return Response(HoldOutputSerializer(holds, many=True).data)


class HoldPlaceApi(APIView):
    permission_classes = [*APIView.permission_classes, IsDpo]

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=LegalHold.Reason.choices)
        reference = serializers.CharField(max_length=100)
        categories = serializers.ListField(child=serializers.ChoiceField(choices=Category.choices), min_length=1)
        account_ids = serializers.ListField(child=IdInput(), required=False, default=list)
        numbers = serializers.ListField(child=serializers.CharField(max_length=32), required=False, default=list)
        window_start = DateTimeInput(required=False, allow_null=True, default=None)
        window_end = DateTimeInput(required=False, allow_null=True, default=None)
        expires_at = DateTimeInput(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: HoldOutputSerializer}, summary="Place a legal hold")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = legal_hold_place(actor=request.user, **data.validated_data)
        return Response(HoldOutputSerializer(hold).data, status=status.HTTP_201_CREATED)


class HoldReleaseApi(APIView):
    permission_classes = [*APIView.permission_classes, IsDpo]

    @extend_schema(request=None, responses=HoldOutputSerializer, summary="Release a legal hold")
    def post(self, request: Request, pk: int) -> Response:
        hold = legal_hold_release(hold=get_object_or_404(LegalHold, pk=pk), actor=request.user)
        return Response(HoldOutputSerializer(hold).data)


class ReceiptListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsDpo]

    class OutputSerializer(serializers.Serializer):
        run = serializers.IntegerField(source="run_id", allow_null=True)
        # running, done or failed: a failed run's receipts are what it removed before it stopped
        run_status = serializers.CharField(source="run.status", allow_null=True)
        category = serializers.CharField()
        deleted = serializers.IntegerField()
        anonymised = serializers.IntegerField()
        kept = serializers.IntegerField()
        cutoff = serializers.DateTimeField(allow_null=True)
        duration_ms = serializers.IntegerField()
        dry_run = serializers.BooleanField()
        created_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), summary="The last purge receipts (counts, never data)")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(purge_receipt_list(limit=100), many=True).data)


class DryRunApi(APIView):
    permission_classes = [*APIView.permission_classes, IsDpo]

    class OutputSerializer(serializers.Serializer):
        run = serializers.IntegerField()
        as_of = serializers.CharField()
        receipts = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=None, responses=OutputSerializer,
                   summary="Count what a purge would remove now (never refused: a dry run takes no lease)")
    def post(self, request: Request) -> Response:
        return Response(self.OutputSerializer(purge_expired(dry_run=True, actor=request.user)).data)
