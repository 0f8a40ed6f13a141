"""A proactive request budget per source, so that its rate limit is rarely hit at all."""

from __future__ import annotations

import threading
import time


class RateBudget:
    """At most ``per_second`` requests per second, spread evenly; shared by a source's threads."""

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
