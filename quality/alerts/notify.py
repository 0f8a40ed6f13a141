"""DingTalk work notifications, the personal reminders: one ``asyncsend_v2`` per alert, to the
people its payload names, as the app's agent. The app token comes from the connector's own
``gettoken`` handling, refreshed the same way; the request goes straight through the transport
so neither the token nor the app secret reaches a log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.dingtalk.client import DingTalkTokenAuth
from connectors.dingtalk.envelope import error_code
from connectors.sdk.errors import AuthError, ConnectorError
from quality.alerts import transport as http
from quality.alerts.outbox import Queued
from quality.alerts.render import markdown_text, title
from quality.alerts.sink import DeliveryFailed, Throttled

SINK = "dingtalk_notify"
SEND_PATH = "/topapi/message/corpconversation/asyncsend_v2"
# Busy, per-app QPS, and a per-API ban: all pass with time.
BUSY = frozenset({-1, 90018, 90002})


def _agent(agent_id: str) -> int | str:
    return int(agent_id) if agent_id.isdigit() else agent_id


def request_body(alert: Queued, agent_id: str) -> dict[str, Any]:
    """The payload's ``userid_list`` are the receivers; ``title``/``text`` the message, else the
    alert rendered as the robot renders it."""
    users = alert.payload.get("userid_list") or []
    if not isinstance(users, list | tuple) or not users:
        raise DeliveryFailed(f"work notification {alert.delivery_key} names no receiver")
    text = alert.payload.get("text") or markdown_text([alert])
    heading = alert.payload.get("title") or title([alert])
    return {
        "agent_id": _agent(agent_id),
        "userid_list": ",".join(str(u) for u in users),
        "msg": {"msgtype": "markdown", "markdown": {"title": heading, "text": text}},
    }


class WorkNotificationSink:
    """One alert per message: each reminder goes to its own person (and their leader)."""

    name = SINK
    batch_size = 1
    per_minute: int | None = None

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: SecretStr,
        agent_id: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret = app_secret
        self._auth = DingTalkTokenAuth(app_key, app_secret.get_secret_value())
        self._agent_id = agent_id
        self._transport = transport or httpx.HTTPTransport()

    def __repr__(self) -> str:
        return f"WorkNotificationSink(base_url={self._base_url!r}, agent_id={self._agent_id!r})"

    def secrets(self) -> tuple[str, ...]:
        return (self._secret.get_secret_value(),)

    def send(self, batch: Sequence[Queued], batch_id: str, now: datetime) -> str | None:
        """``batch_size`` is 1, so a failure never follows a notification already sent."""
        [alert] = batch
        return f"task:{self._send_one(alert)}"

    def _send_one(self, alert: Queued) -> str:
        request = httpx.Request(
            "POST", f"{self._base_url}{SEND_PATH}", json=request_body(alert, self._agent_id)
        )
        try:
            response = http.send(self._transport, request, self._auth)
        except httpx.TransportError as exc:
            raise DeliveryFailed(f"DingTalk unreachable ({type(exc).__name__})") from None
        except AuthError:
            raise DeliveryFailed("DingTalk refused the app credentials (gettoken)") from None
        except ConnectorError as exc:  # gettoken busy or failing: tried again after the backoff
            raise DeliveryFailed(f"DingTalk token unavailable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise DeliveryFailed(f"DingTalk answered HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise DeliveryFailed("DingTalk answered without a JSON body") from None
        code = error_code(answer)
        if code in BUSY:
            raise Throttled(f"DingTalk busy or rate limited (errcode {code})", 1.0)
        if code not in (0, None) or not isinstance(answer, dict) or "task_id" not in answer:
            raise DeliveryFailed(f"asyncsend_v2 refused the notification (errcode {code})")
        return str(answer["task_id"])
