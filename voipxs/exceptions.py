from __future__ import annotations

from typing import Any

from django.utils.translation import gettext


class ApplicationError(Exception):
    """A business rule said no. The message is shown to the user, so it never holds personal data.

    The message stays English (logs, management commands); pages show `shown()`. Messages are marked with
    gettext_noop where they are defined, so the catalogue has them; a message with placeholders is raised
    with `formatted()`, which keeps its msgid and params in `extra` for the translation."""

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    @classmethod
    def formatted(cls, msgid: str, params: dict[str, Any], **extra: Any) -> ApplicationError:
        """A refusal whose message has %(name)s placeholders: `msgid % params` now, translated by `shown()`."""
        return cls(msgid % params, extra={**extra, "msgid": msgid, "params": params})

    def shown(self) -> str:
        """The refusal in the active language (the request's, on a page): the catalogue's translation of the
        message, or of `extra["msgid"]` filled with `extra["params"]` for a message with placeholders."""
        if "msgid" in self.extra:
            return gettext(self.extra["msgid"]) % self.extra.get("params", {})
        return gettext(self.message)

    def add_to(self, form: Any) -> None:
        """Put `shown()` on `form`: at the field the refusal names (extra["field"]) if the form has it, else on
        the form as a whole."""
        field = self.extra.get("field")
        form.add_error(field if field in form.fields else None, self.shown())
