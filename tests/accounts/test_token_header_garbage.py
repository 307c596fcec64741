"""An `Authorization: Token ...` header that is not UTF-8 (or, on PostgreSQL, holds a NUL byte) answered 500:
knox decodes the token and looks its first characters up without checking them. Anyone could make the API
fail and fill the error log so; now such a header is refused as any wrong token is, 401."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header", ["Token \xff\xfe", "Token abcdefgh\x00ijklmnop", "Token \xe9t\xe9"])
def test_a_malformed_api_token_is_refused_not_a_server_error(client, alice, header):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."


def test_the_logout_api_refuses_it_too(client, alice):
    response = client.post("/api/v1/auth/logout/", HTTP_AUTHORIZATION="Token \xff\xfe")
    assert response.status_code == 401
