"""A proactive request budget per source, so that its rate limit is rarely hit at all."""

from __future__ import annotations

import threading
import time
from typing import ClassVar


class RateBudget:
    """At most ``per_second`` requests per second, spread evenly; shared by a source's threads."""

    _shared: ClassVar[dict[str, RateBudget]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared(cls, key: str, per_second: float) -> RateBudget:
        """The one budget of everything in this process that spends ``key``'s limit.

        A source counts requests per client credentials, not per connection: two clients of the
        same credentials (two streams at once, a check right after a pull) share its limit, so
        separate budgets would together overrun it."""
        with cls._shared_lock:
            budget = cls._shared.get(key)
            if budget is None or budget.interval != 1.0 / per_second:
                budget = cls._shared[key] = cls(per_second)
            return budget

    def __init__(self, per_second: float) -> None:
        if per_second <= 0:
            raise ValueError("a rate budget needs a positive number of requests per second")
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            time.sleep(wait)
