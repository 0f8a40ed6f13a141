"""E-mail over SMTP: one message per batch, plain text, to the configured recipients. Login only
when a user is configured (the sandbox's receiver takes mail without)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from pydantic import SecretStr

from quality.alerts.outbox import Queued
from quality.alerts.render import plain_text, title
from quality.alerts.sink import DeliveryFailed, Throttled

SINK = "mail"
BATCH_SIZE = 50
TIMEOUT = 15.0
# 421 and 45x are the "try again later" answers of SMTP.
BUSY = frozenset({421, 450, 451, 452})


def compose(
    batch: Sequence[Queued], batch_id: str, now: datetime, sender: str, to: Sequence[str]
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = title(batch)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=batch_id.replace(":", "."), domain="kpihub")
    message["X-KPIHub-Batch"] = batch_id
    message.set_content(plain_text(batch))
    return message


class MailSink:
    name = SINK
    batch_size = BATCH_SIZE
    per_minute: int | None = None

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        to: Sequence[str],
        user: str | None = None,
        password: SecretStr | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if not to:
            raise ValueError("alert mail needs at least one recipient")
        self.host, self.port, self.sender, self.to = host, port, sender, tuple(to)
        self._user = user
        self._password = password
        self.batch_size = batch_size

    def __repr__(self) -> str:
        return f"MailSink(host={self.host!r}, port={self.port}, to={self.to!r})"

    def secrets(self) -> tuple[str, ...]:
        return (self._password.get_secret_value(),) if self._password else ()

    def send(self, batch: Sequence[Queued], batch_id: str, now: datetime) -> str | None:
        message = compose(batch, batch_id, now, self.sender, self.to)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT) as client:
                if self._user:
                    password = self._password.get_secret_value() if self._password else ""
                    client.login(self._user, password)
                client.send_message(message, from_addr=self.sender, to_addrs=list(self.to))
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP server answered {exc.smtp_code}"
            if exc.smtp_code in BUSY:
                raise Throttled(reason, 60.0) from None
            raise DeliveryFailed(reason) from None
        except smtplib.SMTPException as exc:
            raise DeliveryFailed(f"SMTP delivery failed ({type(exc).__name__})") from None
        except OSError as exc:
            raise DeliveryFailed(f"SMTP server unreachable ({type(exc).__name__})") from None
        return str(message["Message-ID"])
