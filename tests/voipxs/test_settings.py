"""Production settings: the deploy checklist is clean, and missing or fake keys stop the start-up."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The ignored .env of `make run` would fill in a variable a test removes; these subprocesses skip it.
_NO_DOTENV = "import environ; environ.Env.read_env = classmethod(lambda *a, **k: None); "
_SETUP = "import django; django.setup(); print('started')"


def fresh_keys() -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "voipxs.privacy.keys"], cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def production_env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY",
                        "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "DJANGO_DEBUG", "SECURE_SSL_REDIRECT"}}
    env.update(fresh_keys())
    env.update({"DJANGO_SETTINGS_MODULE": "voipxs.settings", "DJANGO_DEBUG": "False",
                "ALLOWED_HOSTS": "voipxs.example", "CSRF_TRUSTED_ORIGINS": "https://voipxs.example"})
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _NO_DOTENV + code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


class ProductionSettingsTests:
    def test_it_passes_the_deploy_security_checklist_with_a_fresh_key_set(self):
        # The full `check --deploy --fail-level WARNING` runs in .ci/run; here the security tag, so that
        # a schema warning in an app under construction does not hide a real security regression.
        result = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"],
            cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no issues" in result.stdout

    def test_it_starts_with_real_keys(self):
        result = run_python(_SETUP, production_env())
        assert result.returncode == 0, result.stderr
        assert "started" in result.stdout

    @pytest.mark.parametrize("name", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"])
    def test_it_refuses_to_start_without_a_key(self, name):
        result = run_python(_SETUP, production_env(**{name: None}))
        assert result.returncode != 0
        assert "started" not in result.stdout
        assert name in result.stderr

    @pytest.mark.parametrize("name, fake", [
        ("SECRET_KEY", "change-me"),
        ("FIELD_ENCRYPTION_KEYS", "dGVzdC1rZXktb25lLTMyLWJ5dGVzLWxvbmctLS0tLS0="),  # the suite's own test key
        ("BLIND_INDEX_KEY", ""),
    ])
    def test_it_refuses_to_start_with_a_placeholder_key(self, name, fake):
        result = run_python(_SETUP, production_env(**{name: fake}))
        assert result.returncode != 0
        assert name in result.stderr
        assert "python -m voipxs.privacy.keys" in result.stderr

    def test_it_refuses_a_placeholder_key_in_a_rotation_list_too(self):
        real = fresh_keys()["FIELD_ENCRYPTION_KEYS"]
        result = run_python(_SETUP, production_env(FIELD_ENCRYPTION_KEYS=f"{real},insecure-old-key"))
        assert result.returncode != 0
        assert "FIELD_ENCRYPTION_KEYS" in result.stderr

    def test_it_serves_secure_cookies_and_hsts_in_production(self):
        code = ("import django; django.setup(); from django.conf import settings as s; "
                "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.DEBUG)")
        result = run_python(code, production_env())
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["True", "True", "True", "True", "False"]
