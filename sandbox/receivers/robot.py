"""The DingTalk custom robot webhook, as specs/dingtalk.md "Custom robot webhook (alert sink)":
every answer is HTTP 200 with an ``errcode``, so a sink must read the body, not the status."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.apps.limits import SlidingWindowLimiter

RATE_LIMIT = 20
RATE_WINDOW = 60.0
THROTTLE_SECONDS = 600.0
MAX_SKEW_MS = 3_600_000

TOKEN_NOT_EXIST = (300001, "token is not exist")
SIGN_NOT_MATCH = (
    310000,
    "sign not match, more: [https://open.dingtalk.com/document/robots/customize-robot-security-settings]",
)
MISSING_MSGTYPE = (40035, "缺少参数 msgtype")
# The documented answer; 410100 and 660026 are also seen in the wild (a sink treats all three
# as throttling), the simulator answers the documented one.
SEND_TOO_FAST = (130101, "send too fast, exceed 20 times per minute")

# Dotted paths each message type must carry; deliberately minimal, enough to catch a sink
# that builds the wrong envelope for the type it names.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text.content",),
    "markdown": ("markdown.title", "markdown.text"),
    "actionCard": ("actionCard.title", "actionCard.text"),
    "link": ("link.title", "link.text", "link.messageUrl"),
    "feedCard": ("feedCard.links",),
}


def new_robot_secret(seed: int) -> str:
    """A robot secret in the console's ``SEC`` + 64 hex form, stable per seed so runs repeat."""
    return "SEC" + hashlib.sha256(f"kpihub-sandbox-robot/{seed}".encode()).hexdigest()


def _signature(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value a client sends: URL-encoded because base64 may contain ``+/=``."""
    return urllib.parse.quote_plus(_signature(secret, timestamp_ms))


class RobotInbox:
    """Messages the robot accepted, in order; rejected and throttled sends never appear here,
    which is what lets a test prove that a sink kept what the robot refused."""

    def __init__(self) -> None:
        self._messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, msgtype: str, body: dict[str, Any], received_at: float) -> None:
        with self._lock:
            self._messages.append({"msgtype": msgtype, "body": body, "received_at": received_at})

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


class _Throttle:
    """Once the window overflows, the robot refuses everything for a fixed penalty period,
    unlike a plain sliding window that would admit the next send a few seconds later."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.limiter = SlidingWindowLimiter(RATE_LIMIT, RATE_WINDOW, clock=clock)
        self.until = float("-inf")
        self._lock = threading.Lock()

    def throttled(self) -> bool:
        with self._lock:
            return self.clock() < self.until

    def admit(self, key: str) -> bool:
        """Counts the send when admitted; starts the penalty when not."""
        if self.limiter.check(key) is None:
            return True
        with self._lock:
            self.until = self.clock() + THROTTLE_SECONDS
        return False


def _answer(code: tuple[int, str]) -> JSONResponse:
    return JSONResponse({"errcode": code[0], "errmsg": code[1]})


def _signed(secret: str, timestamp: str | None, given: str | None, now: float) -> bool:
    """Accepts the sign decoded once by the query parser, or still percent-encoded once more
    (clients that encode before handing the value to an encoding HTTP library)."""
    if not timestamp or not given or not timestamp.isdigit():
        return False
    ts = int(timestamp)
    if abs(now * 1000 - ts) > MAX_SKEW_MS:
        return False
    expected = _signature(secret, ts).encode()
    candidates = {given, urllib.parse.unquote(given)}
    return any(hmac.compare_digest(c.encode(), expected) for c in candidates)


def _has(body: dict[str, Any], dotted: str) -> bool:
    node: Any = body
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return node not in (None, "", [])


def _problem(body: Any) -> tuple[int, str] | None:
    """The error for a malformed message, or None when it is well formed enough to deliver."""
    if not isinstance(body, dict) or body.get("msgtype") not in REQUIRED_FIELDS:
        return MISSING_MSGTYPE
    for field in REQUIRED_FIELDS[body["msgtype"]]:
        if not _has(body, field):
            return (40035, f"缺少参数 {field}")
    return None


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


def create_robot_app(
    access_token: str, secret: str, clock: Callable[[], float] = time.time
) -> Starlette:
    """One robot. ``clock`` is epoch seconds and drives both the signature window and the
    throttle, so tests move time instead of sleeping."""
    if not secret.startswith("SEC"):
        raise ValueError("robot secrets start with 'SEC'")
    inbox = RobotInbox()
    throttle = _Throttle(clock)

    async def send(request: Request) -> JSONResponse:
        params = request.query_params
        if params.get("access_token") != access_token:
            return _answer(TOKEN_NOT_EXIST)
        if not _signed(secret, params.get("timestamp"), params.get("sign"), clock()):
            return _answer(SIGN_NOT_MATCH)
        if throttle.throttled():
            return _answer(SEND_TOO_FAST)
        body = await _json(request)
        problem = _problem(body)
        if problem is not None:
            return _answer(problem)
        if not throttle.admit(access_token):
            return _answer(SEND_TOO_FAST)
        inbox.record(body["msgtype"], body, clock())
        return _answer((0, "ok"))

    app = Starlette(routes=[Route("/robot/send", send, methods=["POST"])])
    app.state.inbox = inbox
    return app
