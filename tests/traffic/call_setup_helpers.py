"""Shared pieces of the click-to-call tests: a token, the settings that point at a fake switch."""
from __future__ import annotations

from contextlib import contextmanager

from django.core.cache import cache
from django.test import override_settings

from accounts.services.call_setup_tokens import call_setup_token_create

URL = "/api/v1/me/calls/setup/"


def token_for(user, name: str = "Firefox at home") -> str:
    return call_setup_token_create(user=user, name=name)[1]


@contextmanager
def switch_settings(backend: str, port: int, **more):
    scheme = "ami" if backend == "asterisk" else "esl"
    cache.clear()  # rate limits count in the cache
    with override_settings(CALL_SETUP_BACKEND=backend, CALL_SETUP_URL=f"{scheme}://voipxs:secret@127.0.0.1:{port}",
                           CALL_SETUP_TIMEOUT_SECONDS=more.pop("timeout", 2.0), **more):
        yield
    cache.clear()


def post(client, token: str, body: dict, **headers):
    return client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"CallSetup {token}", **headers)
