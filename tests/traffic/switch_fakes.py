"""Protocol-level stand-ins for the two switches, speaking their real wire formats over TCP (neither switch
is packaged for Debian here):

- FakeAmi: Asterisk Manager Interface. Greets `Asterisk Call Manager/5.0.1`, answers `Action: Login` with
  `Response: Success` / `Response: Error` + `Message: Authentication failed`, answers `Action: Originate`
  with `Response: Success` + `Message: Originate successfully queued` (echoing the ActionID), sends events
  (`Event: FullyBooted`, `Event: OriginateResponse`) in between, and `Response: Goodbye` on Logoff.
- FakeEsl: FreeSWITCH mod_event_socket (inbound). Greets `Content-Type: auth/request`, answers `auth <pw>`
  with `Content-Type: command/reply` + `Reply-Text: +OK accepted` or `-ERR invalid` and a
  `text/disconnect-notice`, answers `bgapi originate ...` with `Reply-Text: +OK Job-UUID: <uuid>` and later
  a `text/event-plain` BACKGROUND_JOB event; an `api/response` arrives unasked first to test skipping.

`mode` picks a failure: "ok", "bad_login", "silent" (accepts, never speaks), "hang_after_login" (logs in,
then never answers the action), "refuse_originate", "close_after_greeting".
"""
from __future__ import annotations

import socket
import socketserver
import threading
import uuid


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _Fake:
    handler_class: type

    def __init__(self, *, mode: str = "ok", password: str = "secret") -> None:
        self.mode = mode
        self.password = password
        self.received: list[str] = []  # every message the client sent, as text
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(10)
                try:
                    fake.converse(self.request)
                except (OSError, ConnectionError):
                    pass

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def read_block(sock: socket.socket, buffer: list[bytes], delimiter: bytes) -> bytes | None:
        data = buffer[0]
        while delimiter not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
        block, _, buffer[0] = data.partition(delimiter)
        return block


class FakeAmi(_Fake):
    def converse(self, sock: socket.socket) -> None:
        if self.mode == "silent":
            sock.recv(1)  # hold the connection open, say nothing
            return
        sock.sendall(b"Asterisk Call Manager/5.0.1\r\n")
        if self.mode == "close_after_greeting":
            return
        buffer = [b""]
        while (block := self.read_block(sock, buffer, b"\r\n\r\n")) is not None:
            text = block.decode()
            self.received.append(text)
            fields = dict(line.split(": ", 1) for line in text.split("\r\n") if ": " in line)
            action, action_id = fields.get("Action", ""), fields.get("ActionID", "")
            if action == "Login":
                if fields.get("Secret") != self.password or self.mode == "bad_login":
                    sock.sendall(f"Response: Error\r\nActionID: {action_id}\r\nMessage: Authentication failed\r\n\r\n".encode())
                    return
                sock.sendall(f"Response: Success\r\nActionID: {action_id}\r\nMessage: Authentication accepted\r\n\r\n"
                             "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n".encode())
            elif action == "Originate":
                if self.mode == "hang_after_login":
                    sock.recv(1)
                    return
                # An unrelated event first: the client must wait for the Response with its own ActionID.
                sock.sendall(b"Event: PeerStatus\r\nPrivilege: system,all\r\nPeerStatus: Reachable\r\n\r\n")
                if self.mode == "refuse_originate":
                    sock.sendall(f"Response: Error\r\nActionID: {action_id}\r\nMessage: Originate failed\r\n\r\n".encode())
                    continue
                sock.sendall(f"Response: Success\r\nActionID: {action_id}\r\nMessage: Originate successfully queued\r\n\r\n"
                             f"Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: {action_id}\r\n"
                             f"Response: Success\r\nChannel: {fields.get('Channel', '')}\r\nContext: {fields.get('Context', '')}\r\n"
                             f"Exten: {fields.get('Exten', '')}\r\nReason: 4\r\nUniqueid: 1733300000.1\r\n\r\n".encode())
            elif action == "Logoff":
                sock.sendall(f"Response: Goodbye\r\nActionID: {action_id}\r\nMessage: Thanks for all the fish.\r\n\r\n".encode())
                return


DISCONNECT = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


class FakeEsl(_Fake):
    def converse(self, sock: socket.socket) -> None:
        if self.mode == "silent":
            sock.recv(1)
            return
        sock.sendall(b"Content-Type: auth/request\n\n")
        if self.mode == "close_after_greeting":
            return
        buffer = [b""]
        while (block := self.read_block(sock, buffer, b"\n\n")) is not None:
            text = block.decode()
            self.received.append(text)
            command = text.split("\n", 1)[0]
            if command.startswith("auth "):
                if command[5:] != self.password or self.mode == "bad_login":
                    sock.sendall(b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n"
                                 b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n%s" % (len(DISCONNECT), DISCONNECT))
                    return
                sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
            elif command.startswith("bgapi "):
                if self.mode == "hang_after_login":
                    sock.recv(1)
                    return
                job = next((line.split(": ", 1)[1] for line in text.split("\n") if line.startswith("Job-UUID: ")),
                           str(uuid.uuid4()))
                body = b"+OK 3f9a1c2e-0000-4000-8000-000000000000\n"
                sock.sendall(b"Content-Type: api/response\nContent-Length: 3\n\n+OK")  # unasked: must be skipped
                if self.mode == "refuse_originate":
                    sock.sendall(b"Content-Type: command/reply\nReply-Text: -ERR no reply\n\n")
                    continue
                event = (f"Event-Name: BACKGROUND_JOB\nJob-UUID: {job}\nJob-Command: originate\n"
                         f"Content-Length: {len(body)}\n\n").encode() + body
                sock.sendall(f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n".encode()
                             + f"Content-Type: text/event-plain\nContent-Length: {len(event)}\n\n".encode() + event)
            elif command == "exit":
                sock.sendall(b"Content-Type: command/reply\nReply-Text: +OK bye\n\n"
                             b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n%s" % (len(DISCONNECT), DISCONNECT))
                return


def free_port() -> int:
    """A port where nothing listens (the switch is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
