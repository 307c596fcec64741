"""Security of processing (LEGAL.md section 5, row 30): production hashes passwords with Argon2 (PBKDF2 as the
fallback), and a stored password is a one-way hash, never the password or anything that gives it back.

The suite itself runs with the fast MD5 hasher (settings_test), so these tests load the production settings
in a subprocess, as tests/voipxs/test_settings.py does, and hash there."""
from __future__ import annotations

import json

from tests.voipxs.test_settings import production_env, run_python

PASSWORD = "Correct-Horse-Battery-9"
_HASH = f"""
import json
import django
django.setup()
from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher
from accounts.models import User
user = User(username="alice")
user.set_password({PASSWORD!r})
stored = user.password
user.set_password({PASSWORD!r})
print(json.dumps({{"hashers": settings.PASSWORD_HASHERS, "default": get_hasher().algorithm, "stored": stored,
                  "identified": identify_hasher(stored).algorithm, "rehashed": user.password,
                  "rehashed_ok": check_password({PASSWORD!r}, user.password),
                  "right": check_password({PASSWORD!r}, stored), "wrong": check_password({PASSWORD[:-1]!r}, stored)}}))
"""


def _production_hashing() -> dict:
    result = run_python(_HASH, production_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class PasswordHashingTests:
    def test_it_hashes_passwords_with_argon2_or_pbkdf2_in_production(self):
        found = _production_hashing()
        first = found["hashers"][0].rsplit(".", 1)[-1]
        assert first in {"Argon2PasswordHasher", "PBKDF2PasswordHasher"}
        assert found["default"] in {"argon2", "pbkdf2_sha256"}
        # Every hasher production accepts is a slow one: no MD5 or SHA1 fallback an old hash could sit on.
        assert all(h.rsplit(".", 1)[-1] in {"Argon2PasswordHasher", "PBKDF2PasswordHasher"}
                   for h in found["hashers"])

    def test_it_stores_a_password_only_as_a_salted_one_way_hash(self):
        found = _production_hashing()
        stored = found["stored"]
        assert PASSWORD not in stored and PASSWORD.lower() not in stored.lower()
        assert found["identified"] == found["default"]
        if found["default"] == "argon2":
            # argon2$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>: the memory-hard variant, with a salt.
            algorithm, variant, version, params, salt, digest = stored.split("$")
            assert (algorithm, variant, version) == ("argon2", "argon2id", "v=19")
            assert "m=" in params and "t=" in params and salt and len(digest) >= 22
        else:
            algorithm, iterations, salt, digest = stored.split("$")
            assert algorithm == "pbkdf2_sha256" and int(iterations) >= 600_000 and salt and digest
        assert found["right"] is True and found["wrong"] is False
        # Salted: the same password hashed again gives another stored value.
        assert found["rehashed"] != stored and found["rehashed_ok"] is True
