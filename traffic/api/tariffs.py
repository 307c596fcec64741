"""Tariffs through the API, for billing staff only: list, add, end, and a rate deck in two steps
(preview: what would change and a `confirm` digest; apply: with that digest). Tariffs are prices, not
personal data; every change goes through `traffic.services.tariffs` (audited, re-rates pending calls)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voipxs.exceptions import ApplicationError

from ..rate_deck import parse_rate_deck
from ..selectors.tariffs import tariff_get, tariff_list
from ..services.tariffs import rate_deck_apply, rate_deck_plan, tariff_create, tariff_end
from ..tariff_rules import validate_tariff_prefix, validate_zone_text
from .permissions import IsBilling


class TariffOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    prefix = serializers.CharField()
    zone = serializers.CharField()
    zone_nl = serializers.CharField(help_text="the zone's name on Dutch pages and invoices; empty: the zone as typed")
    price_per_minute = serializers.DecimalField(max_digits=10, decimal_places=5)
    setup_fee = serializers.DecimalField(max_digits=10, decimal_places=5)
    increment_first = serializers.IntegerField()
    increment_next = serializers.IntegerField()
    currency = serializers.CharField()
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True, help_text="inclusive last day; null = open ended")


class TariffListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class FilterSerializer(serializers.Serializer):
        prefix = serializers.RegexField(r"^\+?\d{1,20}$", required=False)
        on = serializers.DateField(required=False, help_text="only tariffs valid on this day")

    class InputSerializer(serializers.Serializer):
        prefix = serializers.RegexField(r"^\+?\d{1,20}$", validators=[validate_tariff_prefix])
        zone = serializers.CharField(max_length=60, validators=[validate_zone_text])
        zone_nl = serializers.CharField(max_length=60, validators=[validate_zone_text], required=False,
                                        allow_blank=True, help_text="the zone's name in Dutch (optional)")
        price_per_minute = serializers.DecimalField(max_digits=10, decimal_places=5, min_value=0)
        setup_fee = serializers.DecimalField(max_digits=10, decimal_places=5, min_value=0, required=False)
        increment_first = serializers.IntegerField(min_value=1, max_value=3600, required=False)
        increment_next = serializers.IntegerField(min_value=1, max_value=3600, required=False)
        valid_from = serializers.DateField()
        valid_to = serializers.DateField(required=False, allow_null=True)

    @extend_schema(parameters=[FilterSerializer], responses=TariffOutputSerializer(many=True),
                   summary="Tariffs, by prefix and start (billing)")
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(TariffOutputSerializer(tariff_list(**filters.validated_data), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: TariffOutputSerializer},
                   summary="Add a tariff (billing); pending calls are re-rated")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tariff = tariff_create(actor=request.user, **data.validated_data)
        return Response(TariffOutputSerializer(tariff).data, status=status.HTTP_201_CREATED)


class TariffEndApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class InputSerializer(serializers.Serializer):
        valid_to = serializers.DateField(help_text="the tariff's last day (inclusive)")

    @extend_schema(request=InputSerializer, responses=TariffOutputSerializer, summary="End a tariff (billing)")
    def post(self, request: Request, tariff_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tariff = tariff_end(tariff=tariff_get(tariff_id), last_day=data.validated_data["valid_to"], actor=request.user)
        return Response(TariffOutputSerializer(tariff).data)


class DeckInputSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="the CSV (prefix, description, rate, increments, and "
                                                           "optionally description_nl: the zone's name in Dutch)")
    csv = serializers.CharField(required=False, trim_whitespace=False, help_text="or the CSV as text")
    valid_from = serializers.DateField()

    def validate(self, attrs: dict) -> dict:
        upload = attrs.pop("file", None)
        if upload is not None:
            try:
                attrs["csv"] = upload.read(2 * 1024 * 1024 + 1).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise serializers.ValidationError({"file": "The rate deck must be UTF-8 text."}) from None
        if not attrs.get("csv"):
            raise serializers.ValidationError({"file": "Send the rate deck as `file` or `csv`."})
        rows, errors = parse_rate_deck(attrs["csv"])
        if errors:
            raise ApplicationError(f"Line {errors[0].line}: {errors[0].message}",
                                   {"field": errors[0].field, "errors": [e.__dict__ for e in errors[:100]]})
        attrs["rows"] = rows
        return attrs


class RateDeckPreviewApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    @extend_schema(request=DeckInputSerializer, responses=inline_serializer("RateDeckPreview", {
        "valid_from": serializers.DateField(), "counts": serializers.DictField(child=serializers.IntegerField()),
        "changes": serializers.ListField(child=serializers.DictField()), "confirm": serializers.CharField()}),
        summary="Preview a rate deck: what each line would change (billing); nothing is applied")
    def post(self, request: Request) -> Response:
        data = DeckInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = rate_deck_plan(rows=data.validated_data["rows"], valid_from=data.validated_data["valid_from"])
        return Response({"valid_from": plan.valid_from, "counts": plan.counts, "confirm": plan.digest,
                         "changes": [c.as_dict() for c in plan.changes]})


class RateDeckApplyApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class InputSerializer(DeckInputSerializer):
        confirm = serializers.CharField(max_length=64, help_text="`confirm` from the preview of this deck")

    @extend_schema(request=InputSerializer, responses=inline_serializer("RateDeckApplied", {
        "valid_from": serializers.DateField(), "counts": serializers.DictField(child=serializers.IntegerField())}),
        summary="Apply a previewed rate deck (billing); pending calls are re-rated")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        plan = rate_deck_apply(rows=data.validated_data["rows"], valid_from=data.validated_data["valid_from"],
                               confirm=data.validated_data["confirm"], actor=request.user)
        return Response({"valid_from": plan.valid_from, "counts": plan.counts}, status=status.HTTP_201_CREATED)
