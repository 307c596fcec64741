"""Secrets kept out of every log line. The path of a password-reset link holds the reset token itself (Django's
PasswordResetConfirmView swaps it for `set-password` only after the first visit), which opens the account until it is
used or expires. Django writes request paths into its own lines (django.request: "Internal Server Error: <path>",
"Not Found: <path>"; django.server: the request line) and gunicorn into its error and access logs: each handler of
settings.LOGGING and of gunicorn (voipxs.gunicorn_log) carries SecretsFilter, which writes "[token]" in its place,
in the message and in the traceback."""
from __future__ import annotations

import logging
import re

# accounts/urls.py: password/reset/<uidb64>/<token>/; the step after it is password/reset/<uidb64>/set-password/.
_RESET_TOKEN = re.compile(r"(/accounts/password/reset/[^/\s?#\"']+/)(?!set-password(?:[/\s?#\"']|$))[^/\s?#\"']+")


def redact(text: str) -> str:
    """`text` with the token of any password-reset link in it replaced by "[token]"."""
    return _RESET_TOKEN.sub(r"\1[token]", text)


class SecretsFilter(logging.Filter):
    """A handler's filter: the record's message and traceback with secrets left out (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def logging_config(level: str) -> dict:
    """settings.LOGGING: one console handler, with SecretsFilter, for every logger."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        "filters": {"secrets": {"()": "voipxs.log_secrets.SecretsFilter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["secrets"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # django-axes logs login names on every failed attempt and lockout (user data): errors only.
            "axes": {"level": "ERROR"},
            # Django's own handlers (DEFAULT_LOGGING: a console in debug, mail to ADMINS, the development server's
            # request lines) have no such filter: taken away, their lines go to the root's handler.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        },
    }
