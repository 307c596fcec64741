"""The switch adapters' interface and what they share (see the package docstring)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

from django.conf import settings


class SwitchUnavailable(Exception):
    """The switch did not take the call set-up. `kind` says why; the text never holds a number."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class CallRequest:
    own_number: str  # E.164: rings first, and is the caller ID towards the chosen number
    number: str  # E.164: the chosen number, dialled once the own phone answers

    def __post_init__(self) -> None:
        # Both go into a line-based protocol: anything but '+' and digits could inject a header or command.
        for value in (self.own_number, self.number):
            if not (value.startswith("+") and value[1:].isdigit() and value.isascii()):  # '²', '２' are isdigit()
                raise ValueError("a call request takes E.164 numbers only")


@dataclass(frozen=True)
class SwitchConfig:
    host: str
    port: int
    username: str
    secret: str
    channel: str  # template with {own}: the channel that rings the user's own phone
    context: str  # dialplan context in which the chosen number is dialled
    timeout: float  # seconds for the whole exchange with the switch
    ring_seconds: int  # how long the own phone rings


class SwitchAdapter(Protocol):
    name: str

    def originate(self, call: CallRequest) -> str:
        """Ask the switch to set up `call`; returns the switch's reference (ActionID, Job-UUID)."""


def switch_config() -> SwitchConfig:
    parts = urlsplit(settings.CALL_SETUP_URL)
    return SwitchConfig(
        host=parts.hostname or "127.0.0.1", port=parts.port or 0,
        username=unquote(parts.username or ""), secret=unquote(parts.password or ""),
        channel=settings.CALL_SETUP_CHANNEL, context=settings.CALL_SETUP_CONTEXT,
        timeout=settings.CALL_SETUP_TIMEOUT_SECONDS, ring_seconds=settings.CALL_SETUP_RING_SECONDS,
    )
