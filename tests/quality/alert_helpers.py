"""Shared pieces of the alert tests: a clock that moves only when told, alerts numbered so their
order can be read back, and the outbox rows as plain tuples for exact comparisons."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from quality.alerts import Alert
from schemas.tables import OutboxAlert

START = 1_790_000_000.0
KEY_IN_MARKDOWN = re.compile(r"`([^`]+)`")


class FakeClock:
    """Epoch seconds shared by the hub (``now``) and the sandbox robot (``clock()``)."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def move_to(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += seconds


def alerts(sink: str, count: int, first: int = 1) -> list[Alert]:
    return [
        Alert(
            sink=sink,
            delivery_key=f"finding:{n}",
            kind="anomaly",
            subject=f"yield collapse E{n:05d}",
            payload={"job_number": f"E{n:05d}", "kpi_code": "semi_finished_yield_rate"},
        )
        for n in range(first, first + count)
    ]


def keys(count: int, first: int = 1) -> list[str]:
    return [f"finding:{n}" for n in range(first, first + count)]


def rows(engine: Engine, sink: str) -> list[OutboxAlert]:
    with Session(engine) as session:
        found = session.scalars(
            select(OutboxAlert).where(OutboxAlert.sink == sink).order_by(OutboxAlert.id)
        ).all()
        session.expunge_all()
        return list(found)


def states(engine: Engine, sink: str) -> list[tuple[str, str, int]]:
    return [(r.delivery_key, r.status, r.attempts) for r in rows(engine, sink)]


def robot_keys(messages: list[dict[str, Any]]) -> list[list[str]]:
    """The delivery keys each accepted robot message carried, message by message."""
    return [KEY_IN_MARKDOWN.findall(m["body"]["markdown"]["text"]) for m in messages]


class RecordingTransport(httpx.BaseTransport):
    """The real transport, keeping each request it carried so a test can check its signature."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def closed_port() -> int:
    """A loopback port nothing listens on, to stand for a receiver that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
