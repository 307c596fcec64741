"""A request that loses the database (a restart, a failover) answers 503 with Retry-After, not 500:
nothing of it was stored and it can be sent again in a moment. tests/faults restarts a real PostgreSQL
under gunicorn; here the database call fails in-process."""
from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

from tests.factories import verified_client


def _raising(exc: Exception):
    def view_part(*_args, **_kwargs):
        raise exc

    return view_part


@pytest.mark.django_db
class DatabaseUnavailableTests:
    def test_a_page_answers_503_with_retry_after_and_a_page_that_needs_no_database(self, client, monkeypatch):
        monkeypatch.setattr("voipxs.views.policy_blocks", _raising(OperationalError("server closed the connection")))
        client.raise_request_exception = False
        response = client.get("/privacy/")
        assert response.status_code == 503 and response["Retry-After"] == "10"
        assert "Temporarily unavailable" in response.content.decode()

    def test_the_api_answers_503_in_json(self, client, alice, monkeypatch):
        monkeypatch.setattr("accounts.api.MeApi.get", _raising(InterfaceError("connection already closed")))
        signed_in = verified_client(client, alice)
        signed_in.raise_request_exception = False
        response = signed_in.get("/api/v1/me/")
        assert response.status_code == 503 and response["Retry-After"] == "10"
        assert response.json() == {"detail": "The service is temporarily unavailable. Please try again in a moment."}

    def test_any_other_error_stays_a_500(self, client, monkeypatch):
        monkeypatch.setattr("voipxs.views.policy_blocks", _raising(ValueError("a bug")))
        client.raise_request_exception = False
        response = client.get("/privacy/")
        assert response.status_code == 500 and "Retry-After" not in response
        assert "Something went wrong" in response.content.decode()
