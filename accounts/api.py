from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from voipxs.purposes import Purpose

from .selectors import access_user, phone_number_list


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.CharField(allow_null=True)
        contractor = serializers.CharField(source="contractor.name", allow_null=True, default=None)
        roles = serializers.SerializerMethodField()

        def get_roles(self, user) -> list[str]:
            return sorted(user.groups.values_list("name", flat=True))

    @extend_schema(responses=OutputSerializer, summary="Your own profile")
    def get(self, request: Request) -> Response:
        user = access_user(actor=request.user, purpose=Purpose.SELF_SERVICE, user_id=request.user.pk)
        return Response(self.OutputSerializer(user).data)


class MeNumbersApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        label = serializers.CharField()
        valid_from = serializers.DateTimeField()
        valid_to = serializers.DateTimeField(allow_null=True)

    @extend_schema(responses=OutputSerializer(many=True), summary="Numbers you hold or held")
    def get(self, request: Request) -> Response:
        numbers = phone_number_list(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user)
        return Response(self.OutputSerializer(numbers, many=True).data)
