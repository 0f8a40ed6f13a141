"""Landing: append raw record versions and commit the stream state in the same transaction.

The same version (key + payload hash) is stored once; a changed record becomes a new version and
the record's head moves to it; nothing is overwritten. Because each page and its state commit
together, a crash between pages loses nothing and a re-run lands nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from connectors.sdk import Page, Stream
from connectors.sdk.source import SourceClient
from connectors.sdk.timeparse import now_utc
from pipelines.clock_skew import FutureStamps, horizon, record_future_stamps
from pipelines.leases import renew, stream_lease
from quality.served_twice import record_served_twice
from schemas.envelope import RawRecord, canonical_json
from schemas.tables import QuarantineEntry, RawRecordVersion, RecordHead, StreamState

CHUNK = 500


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


def land_records(
    session: Session, records: list[RawRecord], run_id: str, seen_at: datetime
) -> tuple[int, int]:
    """Store new versions and move heads; returns (new versions, records whose head moved)."""
    if not records:
        return 0, 0
    source, stream = records[0].source, records[0].stream
    latest: dict[str, RawRecord] = {}
    for record in records:
        latest[record.record_key] = record
    keys = sorted(latest)
    known: dict[tuple[str, str], int] = {}
    heads: dict[str, int] = {}
    for chunk in _chunks(keys):
        for key, sha, version_id in session.execute(
            select(
                RawRecordVersion.record_key,
                RawRecordVersion.payload_sha256,
                RawRecordVersion.id,
            ).where(
                RawRecordVersion.source == source,
                RawRecordVersion.stream == stream,
                RawRecordVersion.record_key.in_(chunk),
            )
        ):
            known[(key, sha)] = version_id
        for key, version_id in session.execute(
            select(RecordHead.record_key, RecordHead.version_id).where(
                RecordHead.source == source,
                RecordHead.stream == stream,
                RecordHead.record_key.in_(chunk),
            )
        ):
            heads[key] = version_id
    fresh = [r for r in latest.values() if (r.record_key, r.payload_sha256) not in known]
    if fresh:
        rows = [
            {
                "source": r.source,
                "stream": r.stream,
                "record_key": r.record_key,
                "payload_sha256": r.payload_sha256,
                "payload": r.payload,
                "source_updated_at": r.source_updated_at,
                "extracted_at": r.extracted_at,
                "run_id": run_id,
            }
            for r in fresh
        ]
        result = session.execute(
            insert(RawRecordVersion).returning(
                RawRecordVersion.id, RawRecordVersion.record_key, RawRecordVersion.payload_sha256
            ),
            rows,
        )
        for version_id, key, sha in result:
            known[(key, sha)] = version_id
    moved = 0
    new_heads: list[dict[str, Any]] = []
    moved_heads: list[dict[str, Any]] = []
    for key, record in latest.items():
        version_id = known[(key, record.payload_sha256)]
        current = heads.get(key)
        if current is None:
            new_heads.append(
                {
                    "source": source,
                    "stream": stream,
                    "record_key": key,
                    "version_id": version_id,
                    "seen_at": seen_at,
                }
            )
        elif current != version_id:
            moved += 1
            moved_heads.append(
                {
                    "source": source,
                    "stream": stream,
                    "record_key": key,
                    "version_id": version_id,
                    "seen_at": seen_at,
                }
            )
    if new_heads:
        session.execute(insert(RecordHead), new_heads)
    if moved_heads:
        session.execute(update(RecordHead), moved_heads)
    return len(fresh), moved


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
    for page in source.read(stream, state):
        now = now_utc()
        ahead.note(page.records)
        committed = ahead.bounded(dict(page.state))
        with Session(engine) as session, session.begin():
            landed, moved = land_records(session, page.records, run_id, now)
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
    return stats


def _repeated(page: Page) -> set[str]:
    """Keys served twice: within the page, or as the page's reader reports across its pages."""
    seen: set[str] = set()
    twice = set(page.served_twice)
    for record in page.records:
        if record.record_key in seen:
            twice.add(record.record_key)
        seen.add(record.record_key)
    return twice
