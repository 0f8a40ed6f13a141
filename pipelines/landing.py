"""Landing: append raw record versions and commit the stream state in the same transaction.

The same version (key + payload hash) is stored once; a changed record becomes a new version and
the record's head moves to it; nothing is overwritten. Because each page and its state commit
together, a crash between pages loses nothing and a re-run lands nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, ScalarSelect, bindparam, insert, select, update
from sqlalchemy.orm import Session

from connectors.sdk import Page, Stream
from connectors.sdk.log import hub_log
from connectors.sdk.parallel import ahead_of
from connectors.sdk.source import SourceClient
from connectors.sdk.stream import PeriodOf
from connectors.sdk.timeparse import now_utc
from pipelines.bulk import BulkStatements
from pipelines.clock_skew import FutureStamps, horizon, record_future_stamps
from pipelines.leases import renew, stream_lease
from quality.served_twice import record_served_twice
from schemas.envelope import RawRecord, canonical_json
from schemas.tables import QuarantineEntry, RawRecordVersion, RecordHead, StreamState
from schemas.tables.types import UtcDateTime

CHUNK = 500
READ_AHEAD = 2
"""Pages read ahead of the one being stored: enough to keep the source busy, few enough to
stay small."""

log = hub_log("landing")


@dataclass
class LandingStats:
    source: str
    stream: str
    pages: int = 0
    pulled: int = 0
    landed: int = 0
    changed: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    watermark: str | None = None
    future_stamped: dict[str, str] = field(default_factory=dict)
    """Records stamped later than the hub's clock allows, by key (landed, and a finding)."""
    watermark_held: bool = False
    served_twice: set[str] = field(default_factory=set)
    """Keys the source served more than once in this pull (landed once, and a finding)."""
    read_seconds: float = 0.0
    """Time spent waiting for the source's pages (the pull)."""
    write_seconds: float = 0.0
    """Time spent storing them with their state (the landing proper)."""


def load_state(session: Session, source: str, stream: str) -> dict[str, Any] | None:
    row = session.get(StreamState, (source, stream))
    return dict(row.cursor) if row is not None else None


def _save_state(
    session: Session, source: str, stream: str, state: dict[str, Any], run_id: str
) -> None:
    row = session.get(StreamState, (source, stream))
    now = now_utc()
    if row is None:
        session.add(
            StreamState(source=source, stream=stream, cursor=state, updated_at=now, run_id=run_id)
        )
    else:
        row.cursor = state
        row.updated_at = now
        row.run_id = run_id


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


_VERSIONS = RawRecordVersion.__table__
_HEADS = RecordHead.__table__


def _version_of(prefix: str) -> ScalarSelect[int]:
    """The id of the stored version a head row points to, found in SQL by key and hash, so that
    versions are inserted in one batch without reading their ids back."""
    return (
        select(_VERSIONS.c.id)
        .where(
            _VERSIONS.c.source == bindparam(f"{prefix}source"),
            _VERSIONS.c.stream == bindparam(f"{prefix}stream"),
            _VERSIONS.c.record_key == bindparam(f"{prefix}key"),
            _VERSIONS.c.payload_sha256 == bindparam(f"{prefix}sha"),
        )
        .scalar_subquery()
    )


_NEW_VERSIONS = BulkStatements(
    insert(_VERSIONS).values(
        source=bindparam("source"),
        stream=bindparam("stream"),
        record_key=bindparam("record_key"),
        payload_sha256=bindparam("payload_sha256"),
        payload=bindparam("payload"),
        source_updated_at=bindparam("source_updated_at", type_=UtcDateTime),
        extracted_at=bindparam("extracted_at", type_=UtcDateTime),
        run_id=bindparam("run_id"),
    ),
    # The canonical JSON the hash was taken of: the same text, not encoded a second time.
    encoded=frozenset({"payload"}),
)
_NEW_HEAD = BulkStatements(
    insert(_HEADS).values(
        source=bindparam("h_source"),
        stream=bindparam("h_stream"),
        record_key=bindparam("h_key"),
        version_id=_version_of("h_"),
        seen_at=bindparam("h_seen", type_=UtcDateTime),
        event_period=bindparam("h_period"),
    )
)
_MOVED_HEAD = BulkStatements(
    update(_HEADS)
    .where(
        _HEADS.c.source == bindparam("h_source"),
        _HEADS.c.stream == bindparam("h_stream"),
        _HEADS.c.record_key == bindparam("h_key"),
    )
    .values(
        version_id=_version_of("h_"),
        seen_at=bindparam("h_seen", type_=UtcDateTime),
        event_period=bindparam("h_period"),
    )
)


def land_records(
    session: Session,
    records: list[RawRecord],
    run_id: str,
    seen_at: datetime,
    placed: PeriodOf | None = None,
) -> tuple[int, int]:
    """Store new versions and move heads; returns (new versions, records whose head moved).

    The work is done per batch, not per record: one query finds the current heads' hashes, a
    record that is still its head's version costs nothing more, and the rest are inserted with
    one executemany each for versions, new heads and moved heads. ``placed`` gives the month a
    record's own event time puts it in, kept on its head so a month is read without the rest.
    """
    if not records:
        return 0, 0
    source, stream = records[0].source, records[0].stream
    latest: dict[str, RawRecord] = {}
    for record in records:
        latest[record.record_key] = record
    current: dict[str, str] = {}
    for chunk in _chunks(sorted(latest)):
        for key, sha in session.execute(
            select(_HEADS.c.record_key, _VERSIONS.c.payload_sha256)
            .join(_VERSIONS, _VERSIONS.c.id == _HEADS.c.version_id)
            .where(
                _HEADS.c.source == source,
                _HEADS.c.stream == stream,
                _HEADS.c.record_key.in_(chunk),
            )
        ):
            current[key] = sha
    pending = [r for r in latest.values() if current.get(r.record_key) != r.payload_sha256]
    if not pending:
        return 0, 0
    # A record may change back to a version stored before: that version is not stored again.
    stored: set[tuple[str, str]] = set()
    for chunk in _chunks(sorted(r.record_key for r in pending if r.record_key in current)):
        stored.update(
            (key, sha)
            for key, sha in session.execute(
                select(_VERSIONS.c.record_key, _VERSIONS.c.payload_sha256).where(
                    _VERSIONS.c.source == source,
                    _VERSIONS.c.stream == stream,
                    _VERSIONS.c.record_key.in_(chunk),
                )
            )
        )
    fresh = [r for r in pending if (r.record_key, r.payload_sha256) not in stored]
    connection = session.connection()
    _NEW_VERSIONS.execute(
        connection,
        [
            {
                "source": r.source,
                "stream": r.stream,
                "record_key": r.record_key,
                "payload_sha256": r.payload_sha256,
                "payload": r.canonical_payload,
                "source_updated_at": r.source_updated_at,
                "extracted_at": r.extracted_at,
                "run_id": run_id,
            }
            for r in fresh
        ],
    )
    new_heads: list[dict[str, Any]] = []
    moved_heads: list[dict[str, Any]] = []
    for record in pending:
        row = {
            "h_source": source,
            "h_stream": stream,
            "h_key": record.record_key,
            "h_sha": record.payload_sha256,
            "h_seen": seen_at,
            "h_period": placed(record.payload) if placed is not None else None,
        }
        (moved_heads if record.record_key in current else new_heads).append(row)
    _NEW_HEAD.execute(connection, new_heads)
    _MOVED_HEAD.execute(connection, moved_heads)
    return len(fresh), len(moved_heads)


def _quarantine_rejected(
    session: Session, page: Page, stream: Stream, source: str, run_id: str, now: datetime
) -> None:
    """Keep what could not be landed, once: a re-read of the same bad record adds nothing."""
    for item in page.rejected:
        key = item.payload.get(stream.record_key) if isinstance(item.payload, dict) else None
        record_key = str(key) if key not in (None, "") else ""
        detail = f"{item.detail}; payload {canonical_json(item.payload)[:500]}"
        exists = session.scalar(
            select(QuarantineEntry.id).where(
                QuarantineEntry.source == source,
                QuarantineEntry.stream == stream.name,
                QuarantineEntry.record_key == record_key,
                QuarantineEntry.reason == item.reason,
                QuarantineEntry.detail == detail,
            )
        )
        if exists is None:
            session.add(
                QuarantineEntry(
                    source=source,
                    stream=stream.name,
                    record_key=record_key,
                    raw_version_id=None,
                    period=None,
                    reason=item.reason,
                    detail=detail,
                    created_at=now,
                    run_id=run_id,
                )
            )


def land_stream(engine: Engine, source: SourceClient, stream: Stream, run_id: str) -> LandingStats:
    """Pull one stream from its committed state and land it page by page."""
    with stream_lease(engine, source.name, stream.name, run_id):
        return _land_held(engine, source, stream, run_id)


def _land_held(engine: Engine, source: SourceClient, stream: Stream, run_id: str) -> LandingStats:
    """Landing with the stream's lease held: the state read here is no other run's half-way."""
    stats = LandingStats(source=source.name, stream=stream.name)
    with Session(engine) as session:
        state = load_state(session, source.name, stream.name)
    ahead = FutureStamps(horizon())
    # The next pages are read while this one is stored: the source's wait and the store's
    # overlap. They still arrive one by one and in order, each with its state, so what was read
    # ahead of a crash was never committed and is read again next time.
    pages = ahead_of(iter(source.read(stream, state)), READ_AHEAD)
    while True:
        started = time.perf_counter()
        page = next(pages, None)
        stats.read_seconds += time.perf_counter() - started
        if page is None:
            break
        started = time.perf_counter()
        now = now_utc()
        ahead.note(page.records)
        committed = ahead.bounded(dict(page.state))
        with Session(engine) as session, session.begin():
            landed, moved = land_records(session, page.records, run_id, now, stream.event_period)
            _quarantine_rejected(session, page, stream, source.name, run_id, now)
            # With the page it came with: the finding is stored exactly when the page is.
            repeated = _repeated(page)
            if repeated:
                record_served_twice(session, source.name, stream.name, repeated, run_id)
            record_future_stamps(session, source.name, stream.name, ahead)
            renew(session, source.name, stream.name, run_id)
            if stream.incremental or page.final:
                if page.final:
                    committed["last_sync_at"] = now.isoformat()
                _save_state(session, source.name, stream.name, committed, run_id)
        stats.write_seconds += time.perf_counter() - started
        _log_page(source.name, stream.name, page, landed, moved, repeated)
        stats.served_twice |= repeated
        stats.pages += 1
        stats.pulled += len(page.records) + len(page.rejected)
        stats.landed += landed
        stats.changed += moved
        stats.rejected += len(page.rejected)
        for item in page.rejected:
            stats.rejected_by_reason[item.reason] = stats.rejected_by_reason.get(item.reason, 0) + 1
        if committed.get("watermark"):
            stats.watermark = committed["watermark"]
    stats.future_stamped = dict(ahead.records)
    stats.watermark_held = ahead.watermark_held
    _log_stream(stats)
    return stats


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))


def _log_page(
    source: str, stream: str, page: Page, landed: int, moved: int, repeated: set[str]
) -> None:
    where = f"{source}/{stream} page {page.number}"
    log.debug(
        "%s: %d records, %d new versions, %d changed", where, len(page.records), landed, moved
    )
    if page.rejected:
        reasons: dict[str, int] = {}
        for item in page.rejected:
            reasons[item.reason] = reasons.get(item.reason, 0) + 1
        log.warning("%s: %d records quarantined (%s)", where, len(page.rejected), _counted(reasons))
    if repeated:
        log.warning("%s: %d records served more than once, landed once", where, len(repeated))


def _log_stream(stats: LandingStats) -> None:
    log.info(
        "%s/%s: %d records in %d pages, %d new versions, %d changed, %d quarantined%s "
        "(%.1f s waiting for the source, %.1f s storing)",
        stats.source,
        stats.stream,
        stats.pulled,
        stats.pages,
        stats.landed,
        stats.changed,
        stats.rejected,
        f"; watermark {stats.watermark}" if stats.watermark else "",
        stats.read_seconds,
        stats.write_seconds,
    )
    if stats.future_stamped:
        log.warning(
            "%s/%s: %d records stamped later than the hub's clock allows; the watermark is "
            "held back",
            stats.source,
            stats.stream,
            len(stats.future_stamped),
        )


def _repeated(page: Page) -> set[str]:
    """Keys served twice: within the page, or as the page's reader reports across its pages."""
    seen: set[str] = set()
    twice = set(page.served_twice)
    for record in page.records:
        if record.record_key in seen:
            twice.add(record.record_key)
        seen.add(record.record_key)
    return twice
