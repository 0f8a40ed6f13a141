"""A generic JSON alert webhook with bearer auth, plus a switch to make it fail on demand so a
sink's retry-and-keep-queued behaviour can be observed."""

from __future__ import annotations

import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class _Failures:
    """Deliveries still to fail, and with which status; shared between request threads."""

    def __init__(self) -> None:
        self.remaining = 0
        self.status = 503
        self._lock = threading.Lock()

    def arm(self, count: int, status: int) -> None:
        with self._lock:
            self.remaining, self.status = count, status

    def take(self) -> int | None:
        """The status to fail this delivery with, or None to let it through."""
        with self._lock:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
            return self.status


def _int_param(request: Request, name: str, default: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return None


def create_webhook_app(token: str) -> Starlette:
    """Accepted bodies land in ``app.state.inbox``; failed or refused ones do not."""
    inbox: list[Any] = []
    failures = _Failures()

    async def alerts(request: Request) -> JSONResponse:
        # An injected outage answers before auth, as a proxy in front of the service would.
        status = failures.take()
        if status is not None:
            return JSONResponse({"error": "injected_failure"}, status_code=status)
        if request.headers.get("authorization") != f"Bearer {token}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "invalid_json"}, status_code=400)
        inbox.append(body)
        return JSONResponse({"accepted": True}, status_code=202)

    async def fail(request: Request) -> JSONResponse:
        count = _int_param(request, "count", 1)
        status = _int_param(request, "status", 503)
        if count is None or status is None or count < 0 or not 400 <= status <= 599:
            return JSONResponse({"error": "invalid_parameters"}, status_code=400)
        failures.arm(count, status)
        return JSONResponse({"failing": count, "status": status})

    app = Starlette(
        routes=[
            Route("/hooks/alerts", alerts, methods=["POST"]),
            Route("/_sandbox/fail", fail, methods=["POST"]),
        ]
    )
    app.state.inbox = inbox
    return app
