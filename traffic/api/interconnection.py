"""The interconnection report through the API: answered calls per carrier and switch in a month, cut in Amsterdam's
time (the invoices', the default) or in UTC (`month_tz`, as most carriers' statements)."""
from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voipxs.privacy.purposes import Purpose

from ..selectors.interconnection import MonthZone, interconnection_report, parse_month
from .permissions import IsBilling


class StaffInterconnectionApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class FilterSerializer(serializers.Serializer):
        month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", error_messages={"invalid": "Give the month as YYYY-MM."})
        month_tz = serializers.ChoiceField(choices=MonthZone.choices, required=False, default=MonthZone.AMSTERDAM)

    class OutputSerializer(serializers.Serializer):
        carrier = serializers.CharField()
        source = serializers.CharField()
        calls = serializers.IntegerField()
        seconds = serializers.IntegerField()
        amount = serializers.DecimalField(max_digits=14, decimal_places=2)
        month_tz = serializers.ChoiceField(choices=MonthZone.choices, help_text="The time zone the month was cut in "
                                           "for this row: the request's month_tz, amsterdam when it gave none")

        class Meta:
            ref_name = "InterconnectionRow"

    @extend_schema(parameters=[OpenApiParameter("month", OpenApiTypes.STR, required=True, description="YYYY-MM"),
                               OpenApiParameter("month_tz", OpenApiTypes.STR, enum=MonthZone.values,
                                                description="the month's time zone: amsterdam (as invoiced, the "
                                                            "default) or utc (as most carriers' statements)")],
                   responses=OutputSerializer(many=True), summary="Answered calls per carrier/switch in a month")
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        month = parse_month(filters.validated_data["month"])
        zone = filters.validated_data["month_tz"]
        rows = interconnection_report(actor=request.user, purpose=Purpose.INTERCONNECTION, month=month, month_tz=zone)
        # each row names its cut: a bare list (the response's shape since before month_tz) has no other place for it
        return Response(self.OutputSerializer([{**asdict(row), "month_tz": zone} for row in rows], many=True).data)
