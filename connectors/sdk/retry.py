"""Retry policy for transient failures: connection errors, 5xx, 429 and busy envelopes.

``Retry-After`` is honoured when positive; ``Retry-After: 0`` falls back to the normal backoff so
that a server saying "now" cannot burn every attempt in a burst.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from connectors.sdk.errors import RetryableError

T = TypeVar("T")
BACKOFF_ENV = "KPIHUB_RETRY_INITIAL_BACKOFF"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RetryPolicy:
        """The default policy, with the first backoff (seconds, doubling on each retry) taken
        from ``KPIHUB_RETRY_INITIAL_BACKOFF`` when set: a site whose systems recover slowly
        waits longer, a test against a local twin need not wait at all."""
        text = (os.environ if environ is None else environ).get(BACKOFF_ENV, "").strip()
        if not text:
            return cls()
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= 60:
            raise ValueError(f"{BACKOFF_ENV}={text!r}: must be a number of seconds from 0 to 60")
        return cls(initial_backoff=seconds)

    def run(self, call: Callable[[], T]) -> T:
        backoff = wait_exponential_jitter(
            multiplier=self.initial_backoff, max=self.max_backoff, jitter=self.initial_backoff
        )

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            hint = getattr(error, "retry_after", None)
            if isinstance(hint, int | float) and hint > 0:
                return min(float(hint), self.max_retry_after)
            return backoff(state)

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            retry=retry_if_exception_type((RetryableError, httpx.TransportError)),
            reraise=True,
            sleep=self.sleep,
        )
        return retrying(call)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header; HTTP dates and garbage mean no hint."""
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None
