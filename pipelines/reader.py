"""Read access to landed records for mappings: the current version (head) of every record."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connectors.registry import HeadRecord
from schemas.tables import RawRecordVersion, RecordHead


class StoreReader:
    """The heads of one source's streams, read lazily in batches so a big stream never sits in
    memory twice."""

    def __init__(self, session: Session, source: str) -> None:
        self.session = session
        self.source = source

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterator[HeadRecord]:
        query = (
            select(RawRecordVersion.id, RawRecordVersion.record_key, RawRecordVersion.payload)
            .join(RecordHead, RecordHead.version_id == RawRecordVersion.id)
            .where(RecordHead.source == (source or self.source), RecordHead.stream == stream)
            .order_by(RecordHead.record_key)
            .execution_options(yield_per=2000)
        )
        if period is not None:
            # The month's records through the index on it; one whose time could not be read
            # (or landed before months were kept) is handed over too, for the mapping to judge.
            query = query.where(
                or_(RecordHead.event_period == period, RecordHead.event_period.is_(None))
            )
        for version_id, record_key, payload in self.session.execute(query):
            yield HeadRecord(version_id=version_id, record_key=record_key, payload=payload)
