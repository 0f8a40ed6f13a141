"""Sending what is due: for each sink, its queued alerts in order, in batches, within the sink's
per-minute budget. A batch the sink refuses stays queued with its attempt counted and a later
next try (exponential backoff), and holds back the alerts behind it, so order is kept."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from quality.alerts.outbox import (
    Queued,
    claim,
    due,
    mark_retry,
    mark_sent,
    messages_since,
    session_for,
)
from quality.alerts.sink import DeliveryFailed, Sink, Throttled, redact

log = logging.getLogger("kpihub.alerts")

MINUTE = timedelta(minutes=1)
# Alerts one sink sends in one call at most, so a long backlog drains over several calls.
MAX_PER_RUN = 10_000


@dataclass(frozen=True)
class Backoff:
    """Wait ``base`` x 2^(attempts - 1), at most ``cap``; after ``max_attempts`` failures (not
    throttles, which always pass) an alert is marked failed, kept for ``requeue``. ``lease`` is
    how long a batch being sent is hidden from a second deliverer."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 24
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        return min(self.cap, self.base * 2 ** max(0, attempts - 1))


@dataclass
class SinkReport:
    """What one call did for one sink; ``waiting`` are alerts still due when it ended (the
    sink's per-minute budget was spent, or a refused batch holds them back)."""

    sent: int = 0
    messages: int = 0
    retried: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class DeliveryReport:
    sinks: dict[str, SinkReport] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return sum(r.sent for r in self.sinks.values())


def deliver(
    store: Session | Engine,
    sinks: Iterable[Sink],
    now: datetime,
    backoff: Backoff | None = None,
) -> DeliveryReport:
    """Send every alert that is due at ``now``. Each state change is committed as it happens, so
    a crash loses nothing: at worst a batch sent just before it is sent again after the lease."""
    policy = backoff or Backoff()
    report = DeliveryReport()
    with session_for(store) as session:
        for sink in sinks:
            report.sinks[sink.name] = _deliver_sink(session, sink, now, policy)
    return report


def _budget(session: Session, sink: Sink, now: datetime) -> int | None:
    if sink.per_minute is None:
        return None
    return max(0, sink.per_minute - messages_since(session, sink.name, now - MINUTE))


def _batches(alerts: Sequence[Queued], size: int) -> list[Sequence[Queued]]:
    return [alerts[i : i + size] for i in range(0, len(alerts), size)]


def _deliver_sink(session: Session, sink: Sink, now: datetime, policy: Backoff) -> SinkReport:
    result = SinkReport()
    budget = _budget(session, sink, now)
    limit = MAX_PER_RUN if budget is None else min(MAX_PER_RUN, sink.batch_size * budget)
    alerts = due(session, sink.name, now, limit) if limit else []
    for batch in _batches(alerts, sink.batch_size):
        if not claim(session, batch, now, policy.lease):
            log.info("%s: %d alerts taken by another deliverer", sink.name, len(batch))
            break
        batch_id = f"{sink.name}:{batch[0].id}"
        try:
            receipt = sink.send(batch, batch_id, now)
        except DeliveryFailed as exc:
            _retry(session, sink, batch, now, policy, exc, result)
            break
        except Exception as exc:  # a fault in one sink must not stop the others or lose alerts
            failure = DeliveryFailed(f"{sink.name} failed unexpectedly ({type(exc).__name__})")
            _retry(session, sink, batch, now, policy, failure, result)
            break
        mark_sent(session, batch, now, receipt or batch_id)
        result.sent += len(batch)
        result.messages += 1
        log.info("%s: sent %d alerts as %s", sink.name, len(batch), batch_id)
    result.waiting = len(due(session, sink.name, now, MAX_PER_RUN))
    return result


def _retry(
    session: Session,
    sink: Sink,
    batch: Sequence[Queued],
    now: datetime,
    policy: Backoff,
    exc: DeliveryFailed,
    result: SinkReport,
) -> None:
    error = redact(str(exc), sink.secrets())
    attempts = max(a.attempts for a in batch) + 1
    wait = policy.delay(attempts)
    give_up = attempts >= policy.max_attempts
    if isinstance(exc, Throttled):
        wait = max(wait, timedelta(seconds=exc.retry_after))
        give_up = False
    mark_retry(session, batch, error, now + wait, give_up)
    result.errors.append(error)
    if give_up:
        result.failed += len(batch)
        log.error(
            "%s: %d alerts failed after %d attempts: %s", sink.name, len(batch), attempts, error
        )
    else:
        result.retried += len(batch)
        log.warning(
            "%s: %d alerts kept queued (attempt %d, next try in %ds): %s",
            sink.name,
            len(batch),
            attempts,
            int(wait.total_seconds()),
            error,
        )
