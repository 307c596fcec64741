"""API fuzzing: schemathesis generates valid and invalid requests for every operation in /api/schema/
and sends them as each role (a customer, a contractor admin and every staff role, signed in with a
token issued after their second factor); no response may be a server error (5xx).

New endpoints are picked up from the schema automatically. The budget is bounded: EXAMPLES per
operation and generation mode for the customer (fewer for staff operations, which a customer is
refused), ROLE_EXAMPLES for each other role, so the whole run stays within a few minutes.
"""
from __future__ import annotations

import os

import pytest

from tests.traffic.switch_fakes import FakeAmi

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("VOIPXS_FUZZ_EXAMPLES", "25"))
# A customer is refused every staff operation before its input is read; a few examples show that
# the refusal holds for any input, and keep the run short as staff endpoints multiply.
STAFF_EXAMPLES = int(os.environ.get("VOIPXS_FUZZ_STAFF_EXAMPLES", "5"))
# Every other role: fewer examples each; together they reach every operation as someone allowed to use it.
ROLE_EXAMPLES = int(os.environ.get("VOIPXS_FUZZ_ROLE_EXAMPLES", "4"))
# Operations that would end the fuzzing session itself (the customer's own token or account).
SKIP_PATH_PARTS = ("logout", "close", "erasure")

try:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
except ImportError:  # pragma: no cover - depends on the environment
    schemathesis = None


def _token(user) -> str:
    """A knox token for `user`, issued the way the login API issues them (after the second factor,
    for those who have one: their device predates the token)."""
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(user=user)
    return token


@pytest.fixture(autouse=True)
def fake_switch(settings):
    """Click-to-call set-ups reach a switch (a protocol-level fake of Asterisk AMI): without one the set-up
    API answers 503 by design, which is no server error of ours."""
    with FakeAmi() as switch:
        settings.CALL_SETUP_BACKEND = "asterisk"
        settings.CALL_SETUP_URL = f"ami://voipxs:secret@127.0.0.1:{switch.port}"
        yield switch


@pytest.fixture
def customer_token(alice) -> str:
    return _token(alice)


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, kept from closing the test's database connection after each request
    (the test client does the same; the test's transaction would otherwise be lost on PostgreSQL)."""
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(customer_token, wsgi_app):

    if schemathesis is None:
        if os.environ.get("VOIPXS_REQUIRE_BROWSER") == "1":
            pytest.fail("schemathesis is not installed (VOIPXS_REQUIRE_BROWSER=1: fuzz tests must run here)")
        pytest.skip("the API fuzz tests need schemathesis (pip install -r requirements-dev.txt)")
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": f"Token {customer_token}"}
    )


def fuzz_operation(operation, mode, headers: dict[str, str], examples: int | None = None,
                   stop_when_refused: bool = False) -> list[str] | None:
    """The failing requests of one operation in one generation mode; None if the mode cannot
    generate any request for it (e.g. no invalid input exists for an operation without parameters).
    `stop_when_refused`: once the role is refused (401/403, decided before any input is read), the
    other examples send nothing: the customer's run already shows a refusal holds for any input."""
    failures: list[str] = []
    refused: list[int] = []

    @settings(max_examples=examples or (STAFF_EXAMPLES if "/staff/" in operation.path else EXAMPLES),
              deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        if refused:
            return
        try:
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            if stop_when_refused and response.status_code in (401, 403):
                refused.append(response.status_code)
        except (Exception, BaseExceptionGroup) as exc:  # failed checks arrive as an exception group
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            failures.append(f"{operation.label} [{mode.value}]: {first_line}\n    {case.as_curl_command(headers)}")
            raise

    try:
        run()
    except Unsatisfiable:
        return None
    except (Exception, BaseExceptionGroup):  # noqa: BLE001 - collected above with the failing request
        if not failures:
            raise
    return failures[-1:]  # hypothesis replays the shrunk, minimal failing example last


class ApiFuzzTests:
    def test_it_never_answers_a_customer_with_a_server_error(self, api_schema, customer_token):
        headers = {"Authorization": f"Token {customer_token}"}
        operations = []
        for result in api_schema.get_all_operations():
            operation = result.ok()
            if not any(part in operation.path for part in SKIP_PATH_PARTS):
                operations.append(operation)
        assert any(op.path == "/api/v1/me/" for op in operations)  # the schema is the real one

        failures: list[str] = []
        never_exercised = []
        for operation in operations:
            results = [fuzz_operation(operation, mode, headers)
                       for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
            if all(r is None for r in results):
                never_exercised.append(operation.label)
            failures += [f for r in results if r for f in r]
        assert failures == [], "\n".join(failures)
        assert never_exercised == []

    @pytest.mark.parametrize("persona", ["acme_admin", "billing_staff", "legal1", "dpo", "support", "admin_user"])
    def test_it_never_answers_any_role_with_a_server_error(self, request, persona, api_schema, alice, bob):
        headers = {"Authorization": f"Token {_token(request.getfixturevalue(persona))}"}
        failures: list[str] = []
        for result in api_schema.get_all_operations():
            operation = result.ok()
            if any(part in operation.path for part in SKIP_PATH_PARTS):
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failures += fuzz_operation(operation, mode, headers, examples=ROLE_EXAMPLES,
                                           stop_when_refused=True) or []
        assert failures == [], "\n".join(failures)

    def test_it_serves_the_schema_to_signed_in_users_only(self, client, customer_token):
        assert client.get("/api/schema/").status_code in (401, 403)
        response = client.get("/api/schema/?format=json", HTTP_AUTHORIZATION=f"Token {customer_token}")
        assert response.status_code == 200
        assert response.json()["openapi"].startswith("3.")
