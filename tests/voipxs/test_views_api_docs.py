"""/api/schema/ and /api/docs/: signed-in users only, assets served locally, a schema without warnings."""
from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from rest_framework import serializers

from tests.factories import verified_client


class ThingListApi:
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()


class ThingDetailApi:
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()


class PlainSerializer(serializers.Serializer):
    id = serializers.IntegerField()


@pytest.mark.django_db
class ApiDocsTests:
    def test_it_hides_schema_and_docs_from_anonymous_visitors(self, client):
        assert client.get("/api/schema/").status_code in (401, 403)
        assert client.get("/api/docs/").status_code in (401, 403)

    def test_it_serves_swagger_ui_from_our_own_static_files(self, client, alice):
        response = verified_client(client, alice).get("/api/docs/")
        html = response.content.decode()
        assert response.status_code == 200
        assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
        assert re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html) == []

    def test_it_generates_a_valid_schema_without_warnings(self):
        # Fails when an API view cannot be documented (unknown authenticator, clashing component
        # names, unresolvable fields): `manage.py check --deploy` in CI would fail on the same.
        out = io.StringIO()
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=io.StringIO())
        assert "openapi: 3" in out.getvalue()

    def test_it_names_nested_serializers_after_their_view(self):
        from voipxs.api import AutoSchema

        name = AutoSchema().get_serializer_name
        assert name(ThingListApi.OutputSerializer(), "response") == "ThingListApiOutput"
        assert name(ThingDetailApi.OutputSerializer(), "response") == "ThingDetailApiOutput"
        assert name(PlainSerializer(), "response") == "PlainSerializer"
