"""Print a fresh key set in .env form: ``python -m voipxs.privacy.keys``.

Works before any key exists: it imports nothing from Django or the settings.
"""
from __future__ import annotations

import base64
import secrets


def generate() -> dict[str, str]:
    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(n)).decode()

    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        # AES-256-GCM keys, newest first; keep old ones after a rotation so old rows still read.
        "FIELD_ENCRYPTION_KEYS": b64(32),
        "BLIND_INDEX_KEY": b64(32),
    }


def main() -> None:
    for name, value in generate().items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
