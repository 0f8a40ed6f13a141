"""A generic JSON webhook with a bearer token: one POST per batch, carrying each alert's delivery
key so a receiver can drop one it has already taken (after a send whose answer was lost)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.sdk.retry import parse_retry_after
from quality.alerts import transport as http
from quality.alerts.outbox import Queued
from quality.alerts.sink import DeliveryFailed, Throttled

SINK = "webhook"
BATCH_SIZE = 50


def body(batch: Sequence[Queued], batch_id: str) -> dict[str, Any]:
    return {
        "batch": batch_id,
        "alerts": [
            {
                "delivery_key": alert.delivery_key,
                "kind": alert.kind,
                "subject": alert.subject,
                "payload": dict(alert.payload),
                "created_at": alert.created_at.isoformat(),
            }
            for alert in batch
        ],
    }


class WebhookSink:
    name = SINK
    batch_size = BATCH_SIZE
    per_minute: int | None = None

    def __init__(
        self,
        url: str,
        token: SecretStr,
        transport: httpx.BaseTransport | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._url = url
        self._token = token
        self._transport = transport or httpx.HTTPTransport()
        self.batch_size = batch_size

    def __repr__(self) -> str:
        return f"WebhookSink(url={self._url!r})"

    def secrets(self) -> tuple[str, ...]:
        return (self._token.get_secret_value(),)

    def send(self, batch: Sequence[Queued], batch_id: str, now: datetime) -> str | None:
        request = httpx.Request(
            "POST",
            self._url,
            json=body(batch, batch_id),
            headers={"Authorization": f"Bearer {self._token.get_secret_value()}"},
        )
        try:
            response = http.send(self._transport, request)
        except httpx.TransportError as exc:
            raise DeliveryFailed(f"webhook unreachable ({type(exc).__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            return None
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise Throttled("webhook throttled (HTTP 429)", wait or 60.0)
        raise DeliveryFailed(f"webhook answered HTTP {status}")
