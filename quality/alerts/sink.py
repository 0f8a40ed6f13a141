"""What every alert sink is: a destination that takes a batch of queued alerts as one message,
and says, by what it raises, whether to try again soon (throttled) or after a backoff (failed)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from quality.alerts.outbox import Queued

REDACTED = "***"


class DeliveryFailed(Exception):
    """The sink did not take the batch. The message names the sink and why (a status, an error
    code), never a URL, token or secret: it is stored as the alerts' last error and logged."""


class Throttled(DeliveryFailed):
    """The sink refused because too much was sent; ``retry_after`` is the least wait it needs."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Sink(Protocol):
    """``name`` is the outbox's ``sink`` column; ``batch_size`` how many alerts one message may
    carry; ``per_minute`` how many messages may leave a minute (None: no limit of its own)."""

    name: str
    batch_size: int
    per_minute: int | None

    def secrets(self) -> tuple[str, ...]:
        """Every secret value the sink holds, so anything it says can be scrubbed of them."""
        ...

    def send(self, batch: Sequence[Queued], batch_id: str, now: datetime) -> str | None:
        """Deliver the batch as one message; returns the receiver's id for it, if it gives one."""
        ...


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, plain or URL-encoded, replaced: a last guard in case an error
    from a library quotes a request it made."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, REDACTED)
    return text
