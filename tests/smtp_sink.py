"""A real SMTP server for tests (aiosmtpd), on a free loopback port, that can be taken down and
brought back on the same port to play a mail server outage."""

from __future__ import annotations

import email
import logging
import threading
from dataclasses import dataclass
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from .ports import free_port


@dataclass(frozen=True)
class Received:
    to: list[str]
    message: Message

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    @property
    def subject(self) -> str:
        return str(email.header.make_header(email.header.decode_header(self.message["Subject"])))

    @property
    def body(self) -> str:
        return self.message.get_payload(decode=True).decode(self.message.get_content_charset())


# aiosmtpd logs every SMTP command at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, options):
        if address in self.sink.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope):
        received = Received(
            to=list(envelope.rcpt_tos), message=email.message_from_bytes(envelope.content)
        )
        with self.sink.lock:
            self.sink.received.append(received)
        return "250 Message accepted for delivery"


class SmtpSink:
    """Collects every message it accepts in `received`; addresses in `refuse` get a 550."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.to]
