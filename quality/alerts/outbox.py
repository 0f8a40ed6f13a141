"""The alert outbox: alerts are written to the hub store first and delivered later, so a sink
that is down or throttled delays an alert but never loses it, and the delivery key keeps the same
alert from being queued (and so sent) twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from schemas.tables import OutboxAlert

QUEUED, SENT, FAILED = "queued", "sent", "failed"
STATUSES = (QUEUED, SENT, FAILED)


@dataclass(frozen=True)
class Alert:
    """What to tell whom: ``sink`` names the destination, ``delivery_key`` what makes two alerts
    the same one (e.g. ``finding:42`` or ``reminder:E00042:semi_finished_yield_rate:2026-10``)."""

    sink: str
    delivery_key: str
    kind: str
    subject: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Queued:
    """A queued alert as a sink sees it: plain values, no database row to change by mistake."""

    id: int
    sink: str
    delivery_key: str
    kind: str
    subject: str
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime


@contextmanager
def session_for(store: Session | Engine) -> Iterator[Session]:
    """Callers hold either an engine (a sensor, the CLI) or a session they already use (tests,
    a job step); both work, and a session the caller gave stays open."""
    if isinstance(store, Session):
        yield store
        return
    with Session(store, expire_on_commit=False) as session:
        yield session


def _check_no_secret(alert: Alert, forbidden: Sequence[str]) -> None:
    text = json.dumps([alert.delivery_key, alert.subject, alert.payload], default=str)
    if any(secret and secret in text for secret in forbidden):
        raise ValueError(f"alert {alert.delivery_key!r} for {alert.sink} carries a secret")


def enqueue(
    store: Session | Engine,
    alerts: Iterable[Alert],
    now: datetime,
    forbidden: Sequence[str] = (),
) -> int:
    """Queue the alerts not queued before (same sink and delivery key); returns how many were
    added. ``forbidden`` are secret values no alert may carry: one that does is refused."""
    wanted: dict[tuple[str, str], Alert] = {}
    for alert in alerts:
        _check_no_secret(alert, forbidden)
        wanted.setdefault((alert.sink, alert.delivery_key), alert)
    if not wanted:
        return 0
    with session_for(store) as session:
        for _ in range(2):  # a concurrent enqueue of the same key wins the race once, at most
            try:
                added = _insert_new(session, wanted, now)
                session.commit()
                return added
            except IntegrityError:
                session.rollback()
        raise RuntimeError("alert outbox: the same alerts kept being queued concurrently")


def _insert_new(session: Session, wanted: dict[tuple[str, str], Alert], now: datetime) -> int:
    known: set[tuple[str, str]] = set()
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for sink in {s for s, _ in chunk}:
            names = [k for s, k in chunk if s == sink]
            rows = session.execute(
                select(OutboxAlert.delivery_key).where(
                    OutboxAlert.sink == sink, OutboxAlert.delivery_key.in_(names)
                )
            )
            known.update((sink, key) for (key,) in rows)
    fresh = [alert for key, alert in wanted.items() if key not in known]
    session.add_all(
        OutboxAlert(
            sink=alert.sink,
            delivery_key=alert.delivery_key,
            kind=alert.kind,
            subject=alert.subject[:255],
            payload=dict(alert.payload),
            status=QUEUED,
            attempts=0,
            next_try_at=now,
            created_at=now,
        )
        for alert in fresh
    )
    session.flush()
    return len(fresh)


def due(session: Session, sink: str, now: datetime, limit: int) -> list[Queued]:
    """The sink's queued alerts in the order they were queued, up to the first one not yet due:
    an alert waiting for its retry holds back the ones behind it, so a sink delivers in order."""
    rows = session.scalars(
        select(OutboxAlert)
        .where(OutboxAlert.sink == sink, OutboxAlert.status == QUEUED)
        .order_by(OutboxAlert.id)
        .limit(limit)
    )
    ready: list[Queued] = []
    for row in rows:
        if row.next_try_at > now:
            break
        ready.append(
            Queued(
                row.id,
                row.sink,
                row.delivery_key,
                row.kind,
                row.subject,
                dict(row.payload),
                row.attempts,
                row.created_at,
            )
        )
    return ready


def claim(session: Session, batch: Sequence[Queued], now: datetime, lease: timedelta) -> bool:
    """Push the batch's next try past the lease before sending, committed, so a second deliverer
    running at the same time skips it instead of sending it again. False when one got there
    first. A crash while sending leaves the batch to be retried once the lease runs out."""
    ids = [alert.id for alert in batch]
    result = session.execute(
        update(OutboxAlert)
        .where(
            OutboxAlert.id.in_(ids),
            OutboxAlert.status == QUEUED,
            OutboxAlert.next_try_at <= now,
        )
        .values(next_try_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(ids):  # type: ignore[attr-defined]
        session.rollback()
        return False
    session.commit()
    return True


def mark_sent(session: Session, batch: Sequence[Queued], now: datetime, message_id: str) -> None:
    session.execute(
        update(OutboxAlert)
        .where(OutboxAlert.id.in_([alert.id for alert in batch]))
        .values(
            status=SENT,
            attempts=OutboxAlert.attempts + 1,
            sent_at=now,
            message_id=message_id[:128],
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()


def mark_retry(
    session: Session,
    batch: Sequence[Queued],
    error: str,
    next_try_at: datetime,
    give_up: bool,
) -> None:
    """Count the attempt and keep the batch queued until ``next_try_at``; ``give_up`` moves it
    to failed instead (still kept, and ``requeue`` brings it back)."""
    session.execute(
        update(OutboxAlert)
        .where(OutboxAlert.id.in_([alert.id for alert in batch]))
        .values(
            status=FAILED if give_up else QUEUED,
            attempts=OutboxAlert.attempts + 1,
            next_try_at=next_try_at,
            last_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()


def messages_since(session: Session, sink: str, since: datetime) -> int:
    """Messages a sink delivered after ``since``: what a per-minute budget has already spent.
    Read from the store, so the budget holds across processes and restarts."""
    count = session.scalar(
        select(func.count(func.distinct(OutboxAlert.message_id))).where(
            OutboxAlert.sink == sink,
            OutboxAlert.status == SENT,
            OutboxAlert.sent_at > since,
        )
    )
    return int(count or 0)


def requeue(store: Session | Engine, sink: str, now: datetime) -> int:
    """Put a sink's failed alerts back in the queue (after its settings were fixed)."""
    with session_for(store) as session:
        result = session.execute(
            update(OutboxAlert)
            .where(OutboxAlert.sink == sink, OutboxAlert.status == FAILED)
            .values(status=QUEUED, next_try_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]
