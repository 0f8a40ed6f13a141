"""An SMTP server on loopback that keeps what it receives, for the hub's e-mail alert sink."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class ReceivedMail:
    """The envelope is kept apart from the headers: Bcc recipients appear only in the envelope."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        # SMTP carries CRLF; the email package models lines with "\n", so bodies compare as sent.
        message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        assert isinstance(message, EmailMessage)
        received = ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), message)
        with self.lock:
            self.messages.append(received)
        return "250 Message accepted for delivery"


class _BoundController(Controller):
    """Serves on a socket bound before start, so the ephemeral port is known up front and no
    other process can take it between choosing and binding."""

    def __init__(self, handler: Any, sock: socket.socket) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port)
        self._sock = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class MailReceiver:
    """Plain SMTP without auth or TLS: it only ever listens on loopback in tests and demos."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen()
        self.host, self.port = self._sock.getsockname()[:2]
        self._recorder = _Recorder()
        self._controller = _BoundController(self._recorder, self._sock)

    @property
    def messages(self) -> list[ReceivedMail]:
        """A snapshot, so callers can iterate while more mail arrives."""
        with self._recorder.lock:
            return list(self._recorder.messages)

    def start(self) -> MailReceiver:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        self._sock.close()

    def __enter__(self) -> MailReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
