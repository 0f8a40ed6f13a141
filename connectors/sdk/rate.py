"""Proactive request budgets, so that a source's rate limits are rarely hit at all.

A budget spaces the calls it grants evenly at ``per_second`` and is shared by every thread that
spends the same limit. Some sources limit each API separately (DingTalk: 20 calls a second per
app and API), so a source may hold one budget per API (``ApiBudgets``) and run calls to different
APIs side by side, each at its own limit.

Each budget keeps account of what it granted and of the throttled answers (HTTP 429, DingTalk's
90018) met by the calls it paced, so that a benchmark can say how much of each limit a pull used
and prove that it stayed under it: ``RateBudget.usage()`` lists the shared budgets by key.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from connectors.sdk.errors import RetryableError

IDLE_SECONDS = 1.0
"""A pause longer than this with no call in flight is time the API was not wanted (another
stream was running), not budget left unspent; shorter pauses are the caller's own and count."""


STALE_SECONDS = 120.0
"""An unanswered call older than this gives its place in the window back: its answer will not
be reported any more (the request failed in a way its sender did not see)."""


class Throttled(RetryableError):
    """The source said "too fast" (HTTP 429, DingTalk 90018, a flood guard): retried after its
    hint, and counted against the budget that paced the call, since a budget tight enough never
    meets one."""


@dataclass(frozen=True)
class BudgetUse:
    """What one budget granted: ``calls`` over ``seconds`` of use, against ``per_second``.

    ``seconds`` is the time the budget was in use: from its first grant to its last call's
    answer (or the end of the last grant's interval, if later), leaving out only the pauses
    longer than ``IDLE_SECONDS`` during which no call was in flight. Calls granted back to back
    at the full rate are used = 1.0; a source that answers slowly, or a caller that keeps too
    few calls in flight, shows as less. ``throttled`` counts the answers that said the calls
    went too fast."""

    key: str
    calls: int
    seconds: float
    per_second: float
    throttled: int

    @property
    def used(self) -> float:
        """calls / seconds / per_second: the share of the limit spent while it was in use."""
        if self.calls == 0 or self.seconds <= 0:
            return 0.0
        return self.calls / self.seconds / self.per_second


class Call:
    """One call a budget granted, in flight until ``answered`` says its answer came. With a
    window limit it holds a place in the window until ``window`` seconds after that."""

    __slots__ = ("_budget", "answered_at", "granted_at")

    def __init__(self, budget: RateBudget, granted_at: float) -> None:
        self._budget = budget
        self.granted_at = granted_at
        self.answered_at: float | None = None

    def answered(self) -> None:
        if self.answered_at is None:
            self._budget._answered(self)

    def in_flight(self, now: float) -> bool:
        return self.answered_at is None and now - self.granted_at < STALE_SECONDS


class _Account:
    """Calls granted and the time the budget was in use (see ``BudgetUse``)."""

    def __init__(self) -> None:
        self.calls = 0
        self.throttled = 0
        self.closed = 0.0  # seconds of the stretches of use already over
        self.start: float | None = None  # the current stretch's first grant
        self.covered = 0.0  # until when the current stretch is known to be in use

    def granted(self, at: float, interval: float, in_flight: bool) -> None:
        if self.start is None:
            self.start = at
        elif not in_flight and at > self.covered + IDLE_SECONDS:
            self.closed += self.covered - self.start
            self.start = at
        self.covered = max(self.covered, at + interval)
        self.calls += 1

    def answered(self, at: float) -> None:
        self.covered = max(self.covered, at)

    def seconds(self, now: float, in_flight: bool) -> float:
        if self.start is None:
            return 0.0
        end = max(self.covered, now) if in_flight else self.covered
        return self.closed + end - self.start


class RateBudget:
    """At most ``per_second`` requests per second, spread evenly; shared by a source's threads.

    ``per_window`` adds the guarantee that a source counting "at most N calls in any ``window``
    seconds" never counts one too many, however the calls are delayed on their way or inside
    the source: a call is granted only while fewer than N others may still be inside the
    source's window, that is, in flight or answered less than ``window`` ago. The source counts
    a call at some moment between its sending and its answer, so N calls it counted within one
    window were all in that state when the last of them was sent. Even spacing alone cannot
    promise this: a sender that stalls, or a gateway that holds calls and lets them through at
    once, bunches them up."""

    _shared: ClassVar[dict[str, RateBudget]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared(cls, key: str, per_second: float, per_window: int | None = None) -> RateBudget:
        """The one budget of everything in this process that spends ``key``'s limit.

        A source counts requests per client credentials, not per connection: two clients of the
        same credentials (two streams at once, a check right after a pull) share its limit, so
        separate budgets would together overrun it."""
        with cls._shared_lock:
            budget = cls._shared.get(key)
            if budget is None or budget.per_second != per_second or budget.per_window != per_window:
                budget = cls._shared[key] = cls(per_second, per_window=per_window, key=key)
            return budget

    @classmethod
    def usage(cls) -> dict[str, BudgetUse]:
        """What each shared budget granted since it was made or last reset, by key."""
        with cls._shared_lock:
            budgets = dict(cls._shared)
        return {key: budget.use() for key, budget in sorted(budgets.items())}

    @classmethod
    def reset_usage(cls) -> None:
        """Start every shared budget's account afresh (before a measured pull)."""
        with cls._shared_lock:
            budgets = list(cls._shared.values())
        for budget in budgets:
            budget.reset()

    def __init__(
        self,
        per_second: float,
        *,
        per_window: int | None = None,
        window: float = 1.0,
        key: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("a rate budget needs a positive number of requests per second")
        if per_window is not None and per_window < 1:
            raise ValueError("a window limit needs at least one call per window")
        self.key = key
        self.per_second = float(per_second)
        self.interval = 1.0 / per_second
        self.per_window = per_window
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()
        self._answers = threading.Condition(self._lock)
        self._recent: list[Call] = []  # in flight, or answered less than a window ago
        self._account = _Account()

    def for_path(self, path: str) -> RateBudget | None:
        """The budget a request to ``path`` spends: this one, whatever the path."""
        return self

    def acquire(self) -> Call:
        """Wait for the next slot; slots are ``interval`` apart whoever asks for them, and with
        a window limit, also wait for a place in the window. Tell the call when its answer
        came (``Call.answered``); one never told holds its place for ``STALE_SECONDS``."""
        with self._answers:
            while True:
                now = self._clock()
                self._forget(now)
                wait = self._window_wait(now)
                if wait is None:
                    break
                self._answers.wait(wait)
            granted = max(now, self._next)
            self._next = granted + self.interval
            flying = any(c.in_flight(now) for c in self._recent)
            self._account.granted(granted, self.interval, flying)
            call = Call(self, granted)
            self._recent.append(call)
        if granted > now:
            self._sleep(granted - now)
        return call

    def _forget(self, now: float) -> None:
        keep = self.window if self.per_window is not None else 0.0
        self._recent = [
            c
            for c in self._recent
            if c.in_flight(now) or (c.answered_at is not None and c.answered_at + keep > now)
        ]

    def _window_wait(self, now: float) -> float | None:
        """None when the window has a place now, else how long to wait at most before looking
        again (an answer arriving meanwhile wakes the waiter sooner)."""
        if self.per_window is None or len(self._recent) < self.per_window:
            return None
        leaving = [c.answered_at + self.window for c in self._recent if c.answered_at is not None]
        stale = [c.granted_at + STALE_SECONDS for c in self._recent if c.answered_at is None]
        return max(0.0, min(leaving + stale) - now)

    def _answered(self, call: Call) -> None:
        with self._answers:
            call.answered_at = self._clock()
            self._account.answered(call.answered_at)
            self._answers.notify_all()

    def throttled(self) -> None:
        """Note an answer that said a call this budget paced went too fast."""
        with self._lock:
            self._account.throttled += 1

    def use(self) -> BudgetUse:
        with self._lock:
            now = self._clock()
            account = self._account
            flying = any(c.in_flight(now) for c in self._recent)
            seconds = account.seconds(now, flying)
            return BudgetUse(self.key, account.calls, seconds, self.per_second, account.throttled)

    def reset(self) -> None:
        with self._lock:
            self._account = _Account()


class ApiBudgets:
    """One shared budget per API of a source that limits each API on its own.

    ``keyed`` names the budget of a path (``dingtalk/topapi/processinstance/get ...``), or
    None for a path no budget paces (a token endpoint); ``limits`` gives a path its own rate,
    others get ``per_second``; ``per_window`` is every budget's window limit (see
    ``RateBudget``)."""

    def __init__(
        self,
        keyed: Callable[[str], str | None],
        per_second: float,
        *,
        per_window: int | None = None,
        limits: Mapping[str, float] | None = None,
    ) -> None:
        if per_second <= 0:
            raise ValueError("a rate budget needs a positive number of requests per second")
        self.keyed = keyed
        self.per_second = per_second
        self.per_window = per_window
        self.limits = dict(limits or {})

    def for_path(self, path: str) -> RateBudget | None:
        key = self.keyed(path)
        if key is None:
            return None
        return RateBudget.shared(key, self.limits.get(path, self.per_second), self.per_window)


RatePolicy = RateBudget | ApiBudgets
"""What paces a source's requests: one budget for all of them, or one per API."""
