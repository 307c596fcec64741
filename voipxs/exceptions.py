from __future__ import annotations


class ApplicationError(Exception):
    """A business rule said no. The message is shown to the user, so it never holds personal data."""

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
