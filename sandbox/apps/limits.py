"""Small pieces every simulated server needs: a sliding-window rate limiter and token tables."""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most ``limit`` calls per ``window`` seconds per key; says how long until the next slot."""

    def __init__(
        self, limit: int, window: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float | None:
        """None when the call is allowed (and counted), else seconds to wait."""
        now = self.clock()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                return max(0.0, calls[0] + self.window - now)
            calls.append(now)
            return None

    @staticmethod
    def header(wait: float) -> str:
        """Retry-After in whole seconds; a wait under a second is honestly "0"."""
        return str(math.floor(wait))


class TokenTable:
    """Issued tokens with their expiry and who they were issued to: app and user access tokens,
    and (redeemed once) auth codes and refresh tokens."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, owner: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (owner, self.clock() + self.ttl)
        return token

    def current(self, owner: str) -> str | None:
        """A still-valid token of ``owner`` (DingTalk hands the same one back while valid)."""
        now = self.clock()
        with self._lock:
            for token, (who, expires) in self._tokens.items():
                if who == owner and expires > now:
                    return token
        return None

    def owner(self, token: str | None) -> str | None:
        if not token:
            return None
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[1] <= self.clock():
            return None
        return found[0]

    def redeem(self, token: str) -> str | None:
        """The owner of a single-use token, which is gone once asked for: a replay is refused."""
        with self._lock:
            found = self._tokens.pop(token, None)
        if found is None or found[1] <= self.clock():
            return None
        return found[0]

    def expire_all(self) -> None:
        """Make every issued token expire now, to simulate expiry in the middle of a run."""
        with self._lock:
            self._tokens = {t: (who, 0.0) for t, (who, _) in self._tokens.items()}
