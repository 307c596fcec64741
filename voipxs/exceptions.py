from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext


def _filled(msgid: str, params: dict[str, Any]) -> str:
    return gettext(msgid) % params


def _lowered(text: Any) -> str:
    return str(text).lower()


def _joined(separator: str, texts: tuple[Any, ...]) -> str:
    return separator.join(str(text) for text in texts)


# Params of a refusal that become text only when it is shown, in the language active then; `formatted()` makes
# its message with English active, so the message holds their English. A label (gettext_lazy) is one already.
filled_lazy = lazy(_filled, str)  # a piece with placeholders of its own: filled_lazy(MSGID, {"name": ...})
lowered_lazy = lazy(_lowered, str)  # a label inside a sentence: lowered_lazy(Kind.X.label)
joined_lazy = lazy(_joined, str)  # labels in a row: joined_lazy(", ", (label, ...))


class ApplicationError(Exception):
    """A business rule said no. The message is shown to the user, so it never holds personal data.

    The message stays English (logs, management commands); pages show `shown()`. Messages are marked with
    gettext_noop where they are defined, so the catalogue has them; a message with placeholders is raised
    with `formatted()`, which keeps its msgid and params in `extra` for the translation. A param that is itself
    text (a label, a piece with placeholders) is passed lazy, so that it too is English in the message and in
    the active language in `shown()` (gettext_lazy labels, filled_lazy, lowered_lazy, joined_lazy)."""

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    @classmethod
    def formatted(cls, msgid: str, params: dict[str, Any], **extra: Any) -> ApplicationError:
        """A refusal whose message has %(name)s placeholders: `msgid % params` now, in English whatever the
        request's language (lazy params are made text in English here), translated by `shown()`."""
        with translation.override("en"):
            message = msgid % params
        return cls(message, extra={**extra, "msgid": msgid, "params": params})

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
