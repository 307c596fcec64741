"""A TCP connection to a switch with one deadline for the whole exchange: a switch that accepts the connection
and then says nothing costs the request at most CALL_SETUP_TIMEOUT_SECONDS, never a hung worker."""
from __future__ import annotations

import socket
import time

from .base import SwitchUnavailable


class Wire:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout
        self.buffer = b""
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise SwitchUnavailable("timeout", "no connection within the time limit") from None
        except OSError as exc:
            raise SwitchUnavailable("down", f"connection failed ({type(exc).__name__})") from None

    def __enter__(self) -> "Wire":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        self._arm()
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise SwitchUnavailable("timeout", "the switch did not take our message in time") from None
        except OSError as exc:
            raise SwitchUnavailable("down", f"connection lost while sending ({type(exc).__name__})") from None

    def read_until(self, delimiter: bytes, limit: int = 65536) -> bytes:
        """Bytes up to and without `delimiter` (consumed)."""
        while delimiter not in self.buffer:
            if len(self.buffer) > limit:
                raise SwitchUnavailable("protocol", "message too long")
            self._fill()
        head, _, self.buffer = self.buffer.partition(delimiter)
        return head

    def read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _arm(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise SwitchUnavailable("timeout", "the switch did not answer in time")
        self.sock.settimeout(remaining)

    def _fill(self) -> None:
        self._arm()
        try:
            chunk = self.sock.recv(4096)
        except TimeoutError:
            raise SwitchUnavailable("timeout", "the switch did not answer in time") from None
        except OSError as exc:
            raise SwitchUnavailable("down", f"connection lost ({type(exc).__name__})") from None
        if not chunk:
            raise SwitchUnavailable("down", "the switch closed the connection")
        self.buffer += chunk
