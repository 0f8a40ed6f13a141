"""One writer per stream at a time. Two runs that land the same stream together (two demos, a
schedule overlapping a manual re-run, two hosts on one PostgreSQL store) would race to insert the
same record versions. A run first takes the stream's lease in the hub store: the second run waits
for it, then finds the versions already landed, or stops after ``KPIHUB_LEASE_WAIT_SECONDS`` with
one line naming the run that holds it. A lease lasts ``TTL`` and is renewed with every page, so
the stream of a killed run is free again soon after; sooner still when the next command on the
host finds the run's process gone and frees its leases (``release_runs``)."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine, delete, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import SHANGHAI, now_utc
from schemas.settings import get_settings
from schemas.tables import StreamLease

TTL = timedelta(minutes=2)
POLL_SECONDS = 0.5


class LeaseHeld(RuntimeError):
    """Another run holds the stream; the message says which and since when."""


def _try_take(engine: Engine, source: str, stream: str, holder: str) -> StreamLease | None:
    """Take the lease when it is free, expired or already ours; else return who holds it."""
    now = now_utc()
    with Session(engine) as session, session.begin():
        lease = session.get(StreamLease, (source, stream), with_for_update=True)
        if lease is None:
            session.add(
                StreamLease(
                    source=source,
                    stream=stream,
                    holder=holder,
                    acquired_at=now,
                    expires_at=now + TTL,
                )
            )
            return None
        if lease.holder != holder and lease.expires_at > now:
            session.expunge(lease)
            return lease
        lease.holder, lease.acquired_at, lease.expires_at = holder, now, now + TTL
        return None


def acquire(engine: Engine, source: str, stream: str, holder: str) -> None:
    deadline = time.monotonic() + get_settings().lease_wait_seconds
    while True:
        try:
            held = _try_take(engine, source, stream, holder)
        except (IntegrityError, OperationalError):
            # Another run took it (or holds the write lock) this very instant: look again.
            if time.monotonic() >= deadline:
                raise
            time.sleep(POLL_SECONDS)
            continue
        if held is None:
            return
        if time.monotonic() >= deadline:
            since = held.acquired_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
            raise LeaseHeld(
                f"{source}/{stream} is being synced by run {held.holder} (since {since} "
                "Asia/Shanghai); try again when it has finished"
            )
        time.sleep(POLL_SECONDS)


def renew(session: Session, source: str, stream: str, holder: str) -> None:
    """Extend the lease inside the caller's transaction (a page and its state)."""
    session.execute(
        update(StreamLease)
        .where(
            StreamLease.source == source,
            StreamLease.stream == stream,
            StreamLease.holder == holder,
        )
        .values(expires_at=now_utc() + TTL)
    )


def release(engine: Engine, source: str, stream: str, holder: str) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            delete(StreamLease).where(
                StreamLease.source == source,
                StreamLease.stream == stream,
                StreamLease.holder == holder,
            )
        )


def release_runs(engine: Engine, holders: Collection[str]) -> int:
    """Free every lease held by these runs; returns how many were freed. For runs known to be
    dead (their process was killed): whatever they wrote uncommitted died with their
    connection, so nothing is gained by making the next run wait out the ``TTL``."""
    if not holders:
        return 0
    with Session(engine) as session, session.begin():
        result = session.execute(delete(StreamLease).where(StreamLease.holder.in_(list(holders))))
        return int(result.rowcount or 0)


@contextmanager
def stream_lease(engine: Engine, source: str, stream: str, holder: str) -> Iterator[None]:
    acquire(engine, source, stream, holder)
    try:
        yield
    finally:
        release(engine, source, stream, holder)


__all__ = ["TTL", "LeaseHeld", "acquire", "release", "release_runs", "renew", "stream_lease"]
