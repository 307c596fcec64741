"""`python -m voipxs.privacy.keys` prints a usable key set before any key exists."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY_NAMES = ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"]


def run_keys() -> subprocess.CompletedProcess:
    # No key and no settings module in the environment: the state of a fresh clone.
    env = {k: v for k, v in os.environ.items() if k not in KEY_NAMES + ["DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG"]}
    return subprocess.run([sys.executable, "-m", "voipxs.privacy.keys"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


class KeysCommandTests:
    def test_it_prints_a_complete_set_in_env_form_without_any_key_present(self):
        result = run_keys()
        assert result.returncode == 0, result.stderr
        pairs = dict(line.split("=", 1) for line in result.stdout.strip().splitlines())
        assert list(pairs) == KEY_NAMES
        assert len(base64.urlsafe_b64decode(pairs["FIELD_ENCRYPTION_KEYS"])) == 32
        assert len(base64.urlsafe_b64decode(pairs["BLIND_INDEX_KEY"])) == 32
        assert len(pairs["SECRET_KEY"]) >= 50

    def test_it_prints_different_keys_each_time(self):
        first, second = run_keys().stdout, run_keys().stdout
        assert first != second
        assert set(first.splitlines()).isdisjoint(second.splitlines())

    def test_it_prints_keys_that_production_accepts_and_that_encrypt(self):
        pairs = dict(line.split("=", 1) for line in run_keys().stdout.strip().splitlines())
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(pairs, DJANGO_SETTINGS_MODULE="voipxs.settings", DJANGO_DEBUG="False", ALLOWED_HOSTS="x.example")
        code = ("import environ; environ.Env.read_env = classmethod(lambda *a, **k: None); import django; django.setup(); "
                "from voipxs.privacy.crypto import encrypt_str, decrypt_str, blind_index; "
                "t = encrypt_str('+31205550101'); assert b'31205550101' not in t; "
                "print(decrypt_str(t), len(blind_index('+31205550101', domain='phone')) > 0)")
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["+31205550101", "True"]
