"""/healthz tells a load balancer whether the database and the broker answer."""
from __future__ import annotations

import socket

import pytest
from django.conf import settings
from django.test import override_settings

# What the probe adds about operations (voipxs/ops.py, with accounts/ops_status.py): all well, no beat in the test run.
OPS_OK = {"ciot_sync": "ok", "periodic_jobs": "in-process", "mail_owed": 0}


def closed_port() -> int:
    # A port nobody listens on: bind, read the number, close.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
class HealthzTests:
    def test_it_reports_ok_with_tasks_in_process_when_there_is_no_broker(self, client):
        with override_settings(REDIS_URL=""):
            response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "broker": "in-process", **OPS_OK}

    def test_it_reports_degraded_with_503_when_the_broker_is_down(self, client):
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"):
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "degraded", "database": "ok", "broker": "down", **OPS_OK}

    @pytest.mark.redis
    def test_it_reports_ok_when_redis_answers(self, client):
        assert settings.REDIS_URL
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json()["broker"] == "ok"

    def test_it_needs_no_login_and_is_never_cached(self, client):
        response = client.get("/healthz")
        assert response.status_code in (200, 503)
        assert "no-cache" in response["Cache-Control"]
        assert "database" in response.json()

    def test_it_refuses_writes(self, client):
        assert client.post("/healthz").status_code == 405
