from __future__ import annotations

import pytest

from tests.accounts.helpers import _fresh_cache  # noqa: F401


@pytest.mark.django_db
class MeApiTests:
    def test_it_returns_my_profile_with_the_e_mail_decrypted(self, client, bob):
        client.force_login(bob)
        data = client.get("/api/v1/me/").json()
        assert data["username"] == "bob" and data["email"] == "bob@example.org"
        assert data["contractor"] == "Acme BV" and data["roles"] == ["customer"] and data["two_factor"] is False

    def test_it_lists_only_my_numbers(self, client, alice, bob):
        client.force_login(alice)
        numbers = [n["number"] for n in client.get("/api/v1/me/numbers/").json()]
        assert numbers == ["+31205550101"]

    def test_it_refuses_anonymous_callers(self, client, alice):
        assert client.get("/api/v1/me/").status_code in (401, 403)
        assert client.get("/api/v1/me/numbers/").status_code in (401, 403)


@pytest.mark.django_db
class SchemaTests:
    def test_it_documents_every_accounts_endpoint(self, client, alice):
        client.force_login(alice)
        response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        schema = response.json()
        for path in ("/api/v1/auth/login/", "/api/v1/auth/logout/", "/api/v1/me/", "/api/v1/me/numbers/"):
            assert path in schema["paths"], path
        assert schema["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"
        login = schema["paths"]["/api/v1/auth/login/"]["post"]
        assert login.get("security", []) in ([], [{}])  # no credentials needed to sign in
        assert {"tokenAuth": []} in schema["paths"]["/api/v1/me/"]["get"]["security"]

    def test_it_shows_schema_and_docs_only_to_signed_in_users(self, client, alice):
        assert client.get("/api/schema/").status_code in (401, 403)
        assert client.get("/api/docs/").status_code in (401, 403)
        client.force_login(alice)
        docs = client.get("/api/docs/")
        assert docs.status_code == 200
        assert b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()

    def test_it_generates_the_schema_without_warnings(self):
        import io

        from django.core.management import call_command

        out, err = io.StringIO(), io.StringIO()
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=err)
        assert "warning" not in err.getvalue().lower(), err.getvalue()
