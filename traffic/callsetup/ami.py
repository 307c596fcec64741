"""Asterisk Manager Interface (AMI) adapter: TCP, CRLF-terminated `Key: Value` lines, a blank line ends a
message. The switch greets with `Asterisk Call Manager/<version>`; we send `Action: Login`, then
`Action: Originate` with `Async: true` (Asterisk answers `Response: Success` once the call is queued and
reports `Event: OriginateResponse` later, when the own phone answered or not), then `Action: Logoff`.
Each action carries an ActionID; events and answers to other actions that arrive in between are skipped.

The own phone rings on CALL_SETUP_CHANNEL (e.g. `PJSIP/{own}`); once it answers, Asterisk runs extension
<chosen number> in CALL_SETUP_CONTEXT, with the caller ID set to the user's own number.
"""
from __future__ import annotations

import secrets

from .base import CallRequest, SwitchConfig, SwitchUnavailable
from .wire import Wire

BANNER = b"Asterisk Call Manager/"


def ami_message(fields: list[tuple[str, str]]) -> bytes:
    for key, value in fields:
        if any(c in f"{key}{value}" for c in "\r\n"):
            raise ValueError("AMI header values are single lines")
    return "".join(f"{key}: {value}\r\n" for key, value in fields).encode() + b"\r\n"


def ami_parse(block: bytes) -> dict[str, str]:
    message: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            message.setdefault(key.strip().lower(), value.strip())
    return message


class AmiAdapter:
    name = "asterisk"

    def __init__(self, config: SwitchConfig) -> None:
        self.config = config

    def originate(self, call: CallRequest) -> str:
        config = self.config
        with Wire(config.host, config.port or 5038, config.timeout) as wire:
            if not wire.read_until(b"\r\n").startswith(BANNER):
                raise SwitchUnavailable("protocol", "no Asterisk Call Manager banner")
            login = self._action(wire, "Login", [("Username", config.username), ("Secret", config.secret)])
            if login.get("response", "").lower() != "success":
                raise SwitchUnavailable("login", "the switch refused our login")
            reference = f"voipxs-{secrets.token_hex(8)}"
            answer = self._action(wire, "Originate", [
                ("Channel", config.channel.format(own=call.own_number)),
                ("Context", config.context), ("Exten", call.number), ("Priority", "1"),
                ("CallerID", f"<{call.own_number}>"), ("Timeout", str(config.ring_seconds * 1000)),
                ("Async", "true"),
            ], action_id=reference)
            if answer.get("response", "").lower() != "success":
                raise SwitchUnavailable("refused", "the switch did not queue the call")
            try:
                self._send(wire, "Logoff", [], action_id=f"{reference}-bye")
            except SwitchUnavailable:
                pass  # the call is queued; a lost goodbye changes nothing
            return reference

    def _send(self, wire: Wire, action: str, fields: list[tuple[str, str]], *, action_id: str) -> None:
        wire.send(ami_message([("Action", action), ("ActionID", action_id), *fields]))

    def _action(self, wire: Wire, action: str, fields: list[tuple[str, str]], *, action_id: str = "") -> dict:
        """Send one action and return its Response (skipping events and other actions' answers)."""
        action_id = action_id or f"voipxs-{secrets.token_hex(8)}"
        self._send(wire, action, fields, action_id=action_id)
        while True:
            message = ami_parse(wire.read_until(b"\r\n\r\n"))
            if "response" in message and message.get("actionid") == action_id:
                return message
