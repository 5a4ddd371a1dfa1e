"""A fake SMTP server on 127.0.0.1 (a thread: email sends are blocking and slow anyway).

Accepts every message except for recipients listed in `refuse` (550, permanent) or `defer`
(450, temporary); records what it accepted as raw bytes.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Any, Self


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        fake = self.server.fake
        self.reply("220 fake.smtp ESMTP")
        recipients: list[str] = []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 fake.smtp")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                address = line.partition(":")[2].strip().strip("<>").lower()
                if address in fake.refuse:
                    self.reply("550 5.1.1 No such user")
                elif address in fake.defer:
                    self.reply("450 4.2.1 Try again later")
                else:
                    recipients.append(address)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline(65536)
                    if not chunk:
                        return
                    data += chunk
                fake.messages.append({"to": recipients, "data": data[:-5]})
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            else:
                self.reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeSmtp


class FakeSmtp:
    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.defer: set[str] = set()
        self.messages: list[dict[str, Any]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
