"""Fault injection for the simulated HTTP systems, so connectors meet the failures real systems
have (and a connector that only works against a polite server is caught in tests).

A plan is written ``PROFILE[,SYSTEM=PROFILE...]``: ``hostile`` faults every system,
``hostile,crm=none`` spares the CRM, ``none,qms=flaky`` faults only the QMS. Profiles:

- ``none``: no wrapper at all; the systems behave exactly as without fault injection.
- ``flaky``: about 1 request in 20 fails: 5xx (short bursts), rate limiting, latency spikes,
  connection resets.
- ``hostile``: about 1 request in 3 fails, with every kind the system can show: 5xx bursts,
  rate limiting (``Retry-After`` 0 or 1), latency spikes, token expiry, a truncated JSON page,
  QMS page shifts, connection resets.

Each system fails in its own way. The CRM, QMS and attendance terminals answer 5xx (500 in the
system's JSON error shape, 502/503/504 as a gateway's HTML page); only the CRM answers 429 with
``Retry-After``. DingTalk answers HTTP 200 with ``errcode -1`` (system busy, always flat: the
platform refuses before the API runs) and ``errcode 90018`` (rate limit, shaped as the app's own
limiter answers it: wrapped under 88 below ``/topapi``, flat elsewhere). Token expiry expires
every issued token and lets the request through, so it gets the system's own 401 / 40014.
A page shift serves a QMS page as if rows had been inserted (the page starts up to 3 items
earlier and ``total`` grows: duplicates) or deleted (it starts later and ``total`` shrinks:
skipped items). A reset closes the TCP connection with an RST and no response at all.

The rules a correct client can rely on (what makes "a correct client under ``hostile`` lands
exactly what a clean run lands" true):

1. Faults are transient and never change data: the same request asked again gets the clean
   answer, byte for byte.
2. One request (method, path, query without ``access_token``, body) fails at most
   ``MAX_CONSECUTIVE`` = 3 times in a row; the next attempt is served clean. A client that
   makes up to 4 attempts (3 retries; 6 leaves room for a token refresh) always gets through.
3. Token expiry hits a request at most once in such a streak, so refreshing once is enough.
4. A request gets a truncated page at most once.
5. A QMS listing (same ``from``, ``to``, ``page_size``) is shifted at most once, and only on
   ``page >= 2``; the shift always shows as a ``total`` different from page 1's. A client that
   re-reads the page, or the listing, when ``total`` changes converges on the clean answer.
6. Latency spikes delay a correct answer by at most ``MAX_LATENCY`` seconds; they are not
   failures and do not count towards rule 2.
7. Control routes (``/_sandbox/*``) are never faulted; token endpoints (``/oauth/token``,
   ``/gettoken``) only see 5xx / busy, latency and resets.
8. Deterministic: the n-th request a system receives draws from a generator seeded with
   (seed, system, n), so a sequential client replays the very same faults. Concurrent clients
   change which request is the n-th, as a real network would.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.apps.limits import TokenTable
from sandbox.apps.plant import PAGE_SHIFT

SERVER_ERROR = "server_error"
RATE_LIMITED = "rate_limited"
LATENCY = "latency"
TOKEN_EXPIRY = "token_expiry"
TRUNCATED = "truncated"
PAGE_SHIFT_KIND = "page_shift"
RESET = "reset"
KINDS = (SERVER_ERROR, RATE_LIMITED, LATENCY, TOKEN_EXPIRY, TRUNCATED, PAGE_SHIFT_KIND, RESET)

MAX_CONSECUTIVE = 3
MAX_LATENCY = 1.0
MAX_SHIFT = 3

# What each system can show; a profile's kinds are intersected with these.
SYSTEM_KINDS: dict[str, tuple[str, ...]] = {
    "crm": (SERVER_ERROR, RATE_LIMITED, LATENCY, TOKEN_EXPIRY, TRUNCATED, RESET),
    "dingtalk": (SERVER_ERROR, RATE_LIMITED, LATENCY, TOKEN_EXPIRY, TRUNCATED, RESET),
    "qms": (SERVER_ERROR, LATENCY, TRUNCATED, PAGE_SHIFT_KIND, RESET),
    "attendance": (SERVER_ERROR, LATENCY, TRUNCATED, RESET),
}
TOKEN_PATHS = frozenset({"/oauth/token", "/gettoken"})
TOKEN_PATH_KINDS = frozenset({SERVER_ERROR, LATENCY, RESET})
QMS_LISTING = "/qms/v1/inspections"


@dataclass(frozen=True)
class Profile:
    name: str
    rate: float
    kinds: tuple[str, ...] = ()
    burst: tuple[int, int] = (1, 1)
    latency: tuple[float, float] = (0.0, 0.0)


PROFILES: dict[str, Profile] = {
    "none": Profile("none", 0.0),
    "flaky": Profile(
        "flaky", 0.05, (SERVER_ERROR, RATE_LIMITED, LATENCY, RESET), (1, 2), (0.2, 0.5)
    ),
    "hostile": Profile("hostile", 0.33, KINDS, (2, 4), (0.3, MAX_LATENCY)),
}


@dataclass(frozen=True)
class FaultPlan:
    """A default profile and per-system overrides, parsed from ``PROFILE[,SYSTEM=PROFILE...]``."""

    default: str = "none"
    overrides: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        default, overrides = "none", {}
        for n, part in enumerate(p.strip() for p in text.split(",")):
            if "=" in part:
                system, profile = (s.strip() for s in part.split("=", 1))
                if system not in SYSTEM_KINDS:
                    raise ValueError(
                        f"faults {text!r}: unknown system {system!r} "
                        f"(one of {', '.join(SYSTEM_KINDS)})"
                    )
                overrides[system] = _profile_name(text, profile)
            elif n == 0:
                default = _profile_name(text, part)
            else:
                raise ValueError(
                    f"faults {text!r}: only the first item may be a bare profile; "
                    "write the others as SYSTEM=PROFILE"
                )
        return cls(default, tuple(sorted(overrides.items())))

    def profile(self, system: str) -> Profile:
        return PROFILES[dict(self.overrides).get(system, self.default)]

    def __str__(self) -> str:
        return ",".join([self.default, *(f"{s}={p}" for s, p in self.overrides)])


def _profile_name(text: str, name: str) -> str:
    if name not in PROFILES:
        known = ", ".join(PROFILES)
        raise ValueError(f"faults {text!r}: unknown profile {name!r} (one of {known})")
    return name


@dataclass(frozen=True)
class FaultEvent:
    """One injected fault: the system's request number, what was asked, what it got."""

    n: int
    method: str
    target: str
    kind: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "method": self.method,
            "target": self.target,
            "kind": self.kind,
            "detail": self.detail,
        }


@dataclass
class _State:
    """What the rules need to remember between requests; guarded by the injector's lock."""

    count: int = 0
    burst_left: int = 0
    streaks: dict[str, int] = field(default_factory=dict)
    expired_in_streak: set[str] = field(default_factory=set)
    truncated: set[str] = field(default_factory=set)
    shifted: set[str] = field(default_factory=set)
    events: list[FaultEvent] = field(default_factory=list)


@dataclass(frozen=True)
class _Decision:
    n: int
    kind: str | None
    rng: random.Random


class FaultInjector:
    """ASGI wrapper around one system's app that injects that system's faults by the rules of
    the module docstring. ``events`` lists every fault injected, in order."""

    def __init__(
        self,
        app: ASGIApp,
        system: str,
        profile: Profile | str,
        seed: int,
        tokens: TokenTable | None = None,
    ) -> None:
        self.app = app
        self.system = system
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.seed = seed
        self.tokens = tokens
        self.kinds = tuple(k for k in self.profile.kinds if k in SYSTEM_KINDS[system])
        self._state = _State()
        self._lock = threading.Lock()

    @property
    def events(self) -> list[FaultEvent]:
        with self._lock:
            return list(self._state.events)

    def counts(self) -> Counter[str]:
        return Counter(e.kind for e in self.events)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        replay = _replaying(body, receive)
        key = _request_key(scope, body)
        decision = self._decide(scope, key)
        kind = decision.kind
        if kind is None:
            await self.app(scope, replay, send)
            return
        rng = decision.rng
        if kind == LATENCY:
            delay = rng.uniform(*self.profile.latency)
            self._record(decision, scope, kind, f"{delay:.3f}s")
            await asyncio.sleep(delay)
            await self.app(scope, replay, send)
        elif kind == RESET:
            self._record(decision, scope, kind)
            await _reset(receive, send)
        elif kind == TOKEN_EXPIRY and self.tokens is not None:
            self.tokens.expire_all()
            self._record(decision, scope, kind)
            await self.app(scope, replay, send)
        elif kind == PAGE_SHIFT_KIND:
            shift = self._shift(scope, rng)
            self._record(decision, scope, kind, f"{shift:+d}")
            await self.app({**scope, PAGE_SHIFT: shift}, replay, send)
        elif kind == TRUNCATED:
            await self._truncated(decision, scope, key, replay, send)
        else:
            response, detail = self._refusal(kind, scope["path"], rng)
            self._record(decision, scope, kind, detail)
            await response(scope, replay, send)

    def _decide(self, scope: Scope, key: str) -> _Decision:
        """Which fault, if any, this request gets; applies rules 2-5 and 7."""
        path = scope["path"]
        with self._lock:
            state = self._state
            state.count += 1
            n = state.count
            rng = random.Random(f"kpihub-sandbox-faults/{self.seed}/{self.system}/{n}")
            if not self.kinds:
                return _Decision(n, None, rng)
            kind: str | None = None
            if state.burst_left > 0:
                state.burst_left -= 1
                kind = SERVER_ERROR
            elif rng.random() < self.profile.rate:
                kind = rng.choice(self.kinds)
                if kind == SERVER_ERROR:
                    state.burst_left = rng.randint(*self.profile.burst) - 1
            if kind is not None and not self._allowed(kind, path, key, scope):
                kind = None
            if kind is None or kind == LATENCY:
                state.streaks.pop(key, None)
                state.expired_in_streak.discard(key)
                return _Decision(n, kind, rng)
            state.streaks[key] = state.streaks.get(key, 0) + 1
            if kind == TOKEN_EXPIRY:
                state.expired_in_streak.add(key)
            elif kind == TRUNCATED:
                state.truncated.add(key)
            elif kind == PAGE_SHIFT_KIND:
                state.shifted.add(_listing(scope))
            return _Decision(n, kind, rng)

    def _allowed(self, kind: str, path: str, key: str, scope: Scope) -> bool:
        state = self._state
        if state.streaks.get(key, 0) >= MAX_CONSECUTIVE:
            return False
        if path in TOKEN_PATHS:
            return kind in TOKEN_PATH_KINDS
        if kind == TOKEN_EXPIRY:
            return self.tokens is not None and key not in state.expired_in_streak
        if kind == TRUNCATED:
            return key not in state.truncated
        if kind == PAGE_SHIFT_KIND:
            return (
                path == QMS_LISTING and _page(scope) >= 2 and _listing(scope) not in state.shifted
            )
        return True

    def _record(self, decision: _Decision, scope: Scope, kind: str, detail: str = "") -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope["path"] + (f"?{query}" if query else "")
        event = FaultEvent(decision.n, scope["method"], target, kind, detail)
        with self._lock:
            self._state.events.append(event)

    def _shift(self, scope: Scope, rng: random.Random) -> int:
        size = _int_param(scope, "page_size", 100)
        most = max(1, min(MAX_SHIFT, size - 1))
        return rng.choice([k for k in range(-most, most + 1) if k != 0])

    def _refusal(self, kind: str, path: str, rng: random.Random) -> tuple[Response, str]:
        request_id = f"{rng.getrandbits(64):016x}"
        if self.system == "dingtalk":
            if kind == SERVER_ERROR:
                busy = {"errcode": -1, "errmsg": "系统繁忙", "request_id": request_id}
                return JSONResponse(busy), "errcode -1"
            message = "当前应用的API调用频率超过限制"
            if path.startswith("/topapi/"):
                limited: dict[str, Any] = {
                    "errcode": 88,
                    "sub_code": "90018",
                    "sub_msg": message,
                    "errmsg": f"ding talk error[subcode=90018,submsg={message}]",
                }
            else:
                limited = {"errcode": 90018, "errmsg": message}
            return JSONResponse({**limited, "request_id": request_id}), "errcode 90018"
        if kind == RATE_LIMITED:
            retry_after = rng.choice(("0", "0", "1"))
            body = {"error": "rate_limited", "message": "10 requests per second"}
            return (
                JSONResponse(body, status_code=429, headers={"Retry-After": retry_after}),
                f"429 Retry-After {retry_after}",
            )
        status = rng.choice((500, 502, 503, 503, 504))
        if status == 500:
            body = {"error": "internal_error", "message": f"internal error, request {request_id}"}
            return JSONResponse(body, status_code=500), "500"
        return _gateway_page(status), str(status)

    async def _truncated(
        self, decision: _Decision, scope: Scope, key: str, receive: Receive, send: Send
    ) -> None:
        """The app's answer cut in half, as a proxy that lost the upstream mid-body sends it;
        an answer that is not a 200 goes out whole and counts as no fault."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        assert start is not None
        body = b"".join(chunks)
        if start["status"] == 200 and len(body) > 1:
            body = body[: len(body) // 2]
            self._record(decision, scope, TRUNCATED, f"{len(body)} bytes")
        else:
            with self._lock:
                self._state.streaks.pop(key, None)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _gateway_page(status: int) -> Response:
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    title = f"{status} {reason[status]}"
    html = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Response(html, status_code=status, media_type="text/html")


async def _read_body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body)
        body.extend(message.get("body", b""))
        if not message.get("more_body", False):
            return bytes(body)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body read already, then the connection's own."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _query(scope: Scope) -> list[tuple[str, str]]:
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def _request_key(scope: Scope, body: bytes) -> str:
    """A request as rule 2 sees it: the token is left out, so a retry with a fresh one is the
    same request."""
    query = urlencode(sorted((k, v) for k, v in _query(scope) if k != "access_token"))
    digest = hashlib.sha256(body).hexdigest()[:16]
    return json.dumps([scope["method"], scope["path"], query, digest])


def _int_param(scope: Scope, name: str, default: int) -> int:
    try:
        return int(dict(_query(scope)).get(name, default))
    except ValueError:
        return default


def _page(scope: Scope) -> int:
    return _int_param(scope, "page", 1)


def _listing(scope: Scope) -> str:
    params = dict(_query(scope))
    return json.dumps([params.get("from"), params.get("to"), params.get("page_size")])


async def _reset(receive: Receive, send: Send) -> None:
    """Close the connection with an RST and no response. Uvicorn's ``send`` is a method of the
    request's cycle, which holds the transport; with SO_LINGER 0, aborting it makes the kernel
    send an RST, so the client sees a connection reset, not an HTTP answer."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:  # another server: break the response half way instead
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise ConnectionResetError("connection reset by fault injection")
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    # Wait until the server has seen the connection go, so it does not answer on our behalf.
    try:
        async with asyncio.timeout(2.0):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        pass


def inject(
    app: ASGIApp,
    system: str,
    plan: FaultPlan,
    seed: int,
    tokens: TokenTable | None = None,
) -> tuple[ASGIApp, FaultInjector | None]:
    """``app`` wrapped for ``system``'s profile in ``plan``; unwrapped when it is ``none``."""
    profile = plan.profile(system)
    if profile.name == "none" or system not in SYSTEM_KINDS:
        return app, None
    injector = FaultInjector(app, system, profile, seed, tokens)
    return injector, injector
