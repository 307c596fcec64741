"""FreeSWITCH event socket (mod_event_socket, inbound) adapter. Messages are `Key: Value` lines ended by a
blank line (LF), with a body of `Content-Length` bytes when that header is present. The switch greets with
`Content-Type: auth/request`; we send `auth <password>` and expect `Content-Type: command/reply` with
`Reply-Text: +OK accepted` (a wrong password gets `-ERR invalid` and a `text/disconnect-notice`). Then
`bgapi originate ...` with our own `Job-UUID`: the reply `+OK Job-UUID: <uuid>` means the job was queued
and its result comes later as a BACKGROUND_JOB event; `-ERR ...` means refused. Events and
`api/response` messages that arrive in between are skipped.

The own phone rings on CALL_SETUP_CHANNEL (e.g. `sofia/gateway/voipxs/{own}`); once it answers, the chosen
number is dialled through the XML dialplan in CALL_SETUP_CONTEXT with the user's own number as caller ID.
"""
from __future__ import annotations

import uuid

from .base import CallRequest, SwitchConfig, SwitchUnavailable
from .wire import Wire


def esl_read(wire: Wire) -> tuple[dict[str, str], bytes]:
    headers: dict[str, str] = {}
    while not headers:  # tolerate stray blank lines between messages
        block = wire.read_until(b"\n\n")
        for line in block.decode("utf-8", errors="replace").split("\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
    length = headers.get("content-length", "")
    body = wire.read_exact(int(length)) if length.isdigit() else b""
    return headers, body


def esl_reply(wire: Wire) -> tuple[dict[str, str], bytes]:
    """The next command/reply, skipping events and anything else; a disconnect notice means the switch hung up."""
    while True:
        headers, body = esl_read(wire)
        kind = headers.get("content-type", "")
        if kind == "command/reply":
            return headers, body
        if kind == "text/disconnect-notice":
            raise SwitchUnavailable("down", "the switch closed the event socket")


class EslAdapter:
    name = "freeswitch"

    def __init__(self, config: SwitchConfig) -> None:
        self.config = config

    def originate(self, call: CallRequest) -> str:
        config = self.config
        with Wire(config.host, config.port or 8021, config.timeout) as wire:
            greeting, _ = esl_read(wire)
            if greeting.get("content-type") != "auth/request":
                raise SwitchUnavailable("protocol", "no auth/request greeting")
            if any(c in config.secret for c in "\r\n"):
                raise SwitchUnavailable("login", "the password holds a line break")
            wire.send(f"auth {config.secret}\n\n".encode())
            reply, _ = esl_reply(wire)
            if not reply.get("reply-text", "").startswith("+OK"):
                raise SwitchUnavailable("login", "the switch refused our password")
            job = str(uuid.uuid4())
            wire.send(f"bgapi {self.command(call)}\nJob-UUID: {job}\n\n".encode())
            reply, _ = esl_reply(wire)
            if not reply.get("reply-text", "").startswith("+OK"):
                raise SwitchUnavailable("refused", "the switch did not queue the call")
            try:
                wire.send(b"exit\n\n")
            except SwitchUnavailable:
                pass  # the job is queued; a lost goodbye changes nothing
            return reply.get("job-uuid") or job

    def command(self, call: CallRequest) -> str:
        config = self.config
        variables = (f"origination_caller_id_number={call.own_number},effective_caller_id_number={call.own_number},"
                     f"originate_timeout={config.ring_seconds},ignore_early_media=true")
        channel = config.channel.format(own=call.own_number)
        return (f"originate {{{variables}}}{channel} {call.number} XML {config.context} "
                f"{call.own_number} {call.own_number}")
