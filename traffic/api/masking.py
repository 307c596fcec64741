"""The national masking list through the API (Bude art. 4.2), for billing staff's scripts that follow
the published list: its size, adding numbers (the list's CSV, as on the page) and taking numbers off.
Both take effect from the next billing period; nothing here answers with a number."""
from __future__ import annotations

from django.utils.timezone import localdate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..selectors.masking import masking_list_size
from ..services.masking import MAX_ROWS, masking_list_import, masking_list_take_off
from .permissions import IsBilling


class StaffMaskingListApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class InputSerializer(serializers.Serializer):
        csv = serializers.CharField(max_length=5 * 1024 * 1024, trim_whitespace=False,
                                    help_text="The list as CSV text with a column named number (as the page's file).")

    class OutputSerializer(serializers.Serializer):
        entries = serializers.IntegerField(help_text="Numbers on the list.")
        pending = serializers.IntegerField(help_text="Of which masked from the next billing period on.")
        leaving = serializers.IntegerField(help_text="Numbers taken off, masked until the next billing period.")

    class AddedSerializer(serializers.Serializer):
        added = serializers.IntegerField()
        valid_from = serializers.DateField(help_text="Calls from this day on show these numbers masked.")

    @extend_schema(responses=OutputSerializer, summary="The masking list's size (no numbers)")
    def get(self, request: Request) -> Response:
        entries, pending, leaving = masking_list_size()
        return Response(self.OutputSerializer({"entries": entries, "pending": pending, "leaving": leaving}).data)

    @extend_schema(request=InputSerializer, responses={200: AddedSerializer},
                   summary="Add numbers to the masking list, all or none (a bad line: 400 naming it)")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added, valid_from = masking_list_import(actor=request.user, text=data.validated_data["csv"])
        return Response(self.AddedSerializer({"added": added, "valid_from": localdate(valid_from)}).data)


class StaffMaskingListTakeOffApi(APIView):
    permission_classes = [*APIView.permission_classes, IsBilling]

    class InputSerializer(serializers.Serializer):
        numbers = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=MAX_ROWS,
                                        help_text="Numbers to take off; a 400 names the first bad one by its "
                                                  "position in this list (`line`, from 1).")

    class OutputSerializer(serializers.Serializer):
        taken_off = serializers.IntegerField()
        valid_until = serializers.DateField(help_text="Calls from this day on show these numbers in full; "
                                                      "earlier calls stay masked.")

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer},
                   summary="Take numbers off the masking list, all or none")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        numbers = [n.replace("\n", " ") for n in data.validated_data["numbers"]]
        taken, valid_until = masking_list_take_off(actor=request.user, text="\n".join(numbers))
        return Response(self.OutputSerializer({"taken_off": taken, "valid_until": localdate(valid_until)}).data)
