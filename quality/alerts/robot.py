"""The DingTalk custom robot (specs/dingtalk.md "Custom robot webhook"): every request signed
with the robot's secret, alerts batched into markdown messages so that no more than 20 messages
a minute leave per robot, and errcodes 130101, 410100 and 660026 read as throttling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from quality.alerts import transport as http
from quality.alerts.outbox import Queued
from quality.alerts.render import markdown_text, title
from quality.alerts.sink import DeliveryFailed, Throttled

SINK = "robot"
THROTTLED = frozenset({130101, 410100, 660026})
PER_MINUTE = 20
BATCH_SIZE = 10
# A throttled robot refuses everything for minutes; trying again within one only extends it.
THROTTLE_WAIT = 60.0


def sign(secret: str, timestamp_ms: int) -> str:
    """``sign`` for the query: base64 of HMAC-SHA256 over ``f"{timestamp}\\n{secret}"`` keyed
    with the secret, URL-encoded because base64 may hold ``+``, ``/`` and ``=``."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return urllib.parse.quote_plus(base64.b64encode(mac.digest()).decode())


def message(batch: Sequence[Queued]) -> dict[str, Any]:
    return {
        "msgtype": "markdown",
        "markdown": {"title": title(batch), "text": markdown_text(batch)},
    }


def _errcode(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    try:
        return int(str(body.get("errcode"))) if isinstance(body, dict) else None
    except ValueError:
        return None


class RobotSink:
    """One robot. ``url`` is its webhook as the group settings show it, with the access token;
    it is a SecretStr because that token is all it takes to post to the group."""

    name = SINK
    batch_size = BATCH_SIZE
    per_minute: int | None = PER_MINUTE

    def __init__(
        self,
        url: SecretStr,
        secret: SecretStr,
        transport: httpx.BaseTransport | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        if not secret.get_secret_value().startswith("SEC"):
            raise ValueError(
                "a DingTalk robot secret starts with 'SEC' (see its security settings)"
            )
        self._url = url
        self._secret = secret
        self._transport = transport or httpx.HTTPTransport()
        self.batch_size = batch_size

    def __repr__(self) -> str:
        return f"RobotSink(batch_size={self.batch_size})"

    def secrets(self) -> tuple[str, ...]:
        url = self._url.get_secret_value()
        tokens = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("access_token", [])
        return (url, self._secret.get_secret_value(), *tokens)

    def send(self, batch: Sequence[Queued], batch_id: str, now: datetime) -> str | None:
        timestamp = int(now.timestamp() * 1000)
        url = self._url.get_secret_value()
        joiner = "&" if "?" in url else "?"
        signature = sign(self._secret.get_secret_value(), timestamp)
        signed = f"{url}{joiner}timestamp={timestamp}&sign={signature}"
        request = httpx.Request("POST", signed, json=message(batch))
        try:
            response = http.send(self._transport, request)
        except httpx.TransportError as exc:
            raise DeliveryFailed(f"robot unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise DeliveryFailed(f"robot answered HTTP {response.status_code}")
        code = _errcode(response)
        if code == 0:
            return None
        if code in THROTTLED:
            raise Throttled(f"robot throttled (errcode {code})", THROTTLE_WAIT)
        raise DeliveryFailed(f"robot refused the message (errcode {code})")
