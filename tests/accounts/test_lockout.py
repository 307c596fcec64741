from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.db import connection

from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import PASSWORD

WRONG = "wrong-password-1234"


def fail_five(client, username: str = "alice") -> None:
    for _ in range(5):
        client.post("/accounts/login/", {"username": username, "password": WRONG})


@pytest.mark.django_db
class LockoutTests:
    def test_it_refuses_the_sixth_attempt_even_with_the_right_password(self, client, alice):
        fail_five(client)
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
        assert response.status_code == 429
        assert b"Too many failed sign-in attempts" in response.content
        assert "_auth_user_id" not in client.session

    def test_it_keeps_the_login_name_and_address_but_never_the_password(self, client, alice):
        fail_five(client)
        attempt = AccessAttempt.objects.get()
        assert attempt.username == "alice" and attempt.ip_address == "127.0.0.1"
        assert attempt.failures_since_start == 5
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM axes_accessattempt")
            raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
        assert WRONG not in raw and PASSWORD not in raw
        assert AccessFailureLog.objects.count() == 0  # per-attempt logs are off (AXES_ENABLE_ACCESS_FAILURE_LOG)

    def test_it_locks_per_login_name_so_others_can_still_sign_in(self, client, alice, bob):
        fail_five(client, "alice")
        response = client.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
        assert response.status_code == 302

    def test_it_forgets_earlier_failures_after_a_successful_sign_in(self, client, alice):
        for _ in range(4):
            client.post("/accounts/login/", {"username": "alice", "password": WRONG})
        assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
        client.post("/accounts/logout/")
        for _ in range(4):
            client.post("/accounts/login/", {"username": "alice", "password": WRONG})
        assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302

    def test_it_locks_the_api_login_too(self, client, alice):
        for _ in range(5):
            client.post("/api/v1/auth/login/", {"username": "alice", "password": WRONG}, content_type="application/json")
        response = client.post("/api/v1/auth/login/", {"username": "alice", "password": PASSWORD},
                               content_type="application/json")
        assert response.status_code == 429
        assert response.json() == {"detail": "Too many failed sign-in attempts; try again later."}
