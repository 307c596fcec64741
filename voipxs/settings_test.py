"""Test settings: fixed keys, fast hashing, in-memory e-mail. DATABASE_URL and REDIS_URL still
come from the environment, so CI runs the same suite on PostgreSQL+Redis and on SQLite."""
from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "unit-suite-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
# Two keys: the first is used for new writes, the second proves old ciphertext still reads.
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS",
    "dGVzdC1rZXktb25lLTMyLWJ5dGVzLWxvbmctLS0tLS0=,dGVzdC1rZXktdHdvLTMyLWJ5dGVzLWxvbmctLS0tLS0=",
)
os.environ.setdefault("BLIND_INDEX_KEY", "dGVzdC1ibGluZC1pbmRleC1rZXktMzItYnl0ZXMtLS0=")
os.environ.setdefault("DJANGO_DEBUG", "False")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")

from .settings import *  # noqa: E402,F403
from .settings import env  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
ALLOWED_HOSTS = ["*"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Unit tests run tasks in-process; integration tests start a real worker on REDIS_URL themselves.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PRIVATE_FILES_DIR = BASE_DIR / "var" / f"test-private-{os.getpid()}"  # noqa: F405
BACKUP_KEYS_FILE = BASE_DIR / "var" / f"test-backup-keys-{os.getpid()}" / "month-keys.enc"  # noqa: F405
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Serve static files from the app folders (no collectstatic before a test run), as in development.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
