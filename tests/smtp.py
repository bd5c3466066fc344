"""A real SMTP server (aiosmtpd) for the tests of the link e-mails' outbox: it keeps what it receives."""

import socket
import threading
from email import message_from_bytes

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Keep:
    def __init__(self, box):
        self.box = box

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.box.lock:
            self.box.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"


class MailServer:
    """``MailServer(port).start()``; ``messages``: ``(recipients, email.message.Message)`` as received."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.messages = []
        self.lock = threading.Lock()
        self.controller = None

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def recipients(self) -> list[str]:
        with self.lock:
            return [r for rcpts, _m in self.messages for r in rcpts]

    def bodies(self) -> list[str]:
        with self.lock:
            out = []
            for _r, message in self.messages:
                part = next((p for p in message.walk() if p.get_content_type() == "text/plain"), message)
                out.append(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))
            return out
