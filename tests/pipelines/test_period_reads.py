"""A month is read without the others: heads carry the month their record's time places it in."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from connectors.sdk import HttpSource, Page, Stream
from pipelines.landing import land_stream
from pipelines.reader import StoreReader
from pipelines.stores import Stores
from schemas.envelope import RawRecord

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def month_of(payload: Mapping[str, Any]) -> str | None:
    day = str(payload.get("day") or "")
    return day[:7] if len(day) == 10 else None


def inspection(key: str, day: str) -> RawRecord:
    return RawRecord.wrap(
        source="qms",
        stream="inspections",
        record_key=key,
        payload={"id": key, "day": day},
        source_updated_at=None,
        extracted_at=NOW,
    )


def replayed(*records: RawRecord) -> Stream:
    def reader(
        source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
    ) -> Iterator[Page]:
        yield Page(number=1, records=list(records), state={}, final=True)

    return Stream(name="inspections", reader=reader, event_period=month_of)


@pytest.fixture
def source() -> Iterator[HttpSource]:
    client = httpx.Client(base_url="http://127.0.0.1:9")
    yield HttpSource("qms", client)
    client.close()


def read(stores: Stores, period: str | None) -> list[str]:
    with Session(stores.hub) as session:
        return [
            h.record_key for h in StoreReader(session, "qms").heads("inspections", period=period)
        ]


def test_a_month_reads_its_own_records_and_those_without_a_readable_time(
    stores: Stores, source: HttpSource
) -> None:
    stream = replayed(
        inspection("A", "2026-09-30"),
        inspection("B", "2026-10-01"),
        inspection("C", "garbled"),
        inspection("D", "2026-10-31"),
    )
    land_stream(stores.hub, source, stream, "run-1")
    assert read(stores, "2026-10") == ["B", "C", "D"]
    assert read(stores, "2026-09") == ["A", "C"]
    assert read(stores, "2026-08") == ["C"]
    assert read(stores, None) == ["A", "B", "C", "D"]


def test_a_record_moved_to_another_month_is_read_there_only(
    stores: Stores, source: HttpSource
) -> None:
    land_stream(stores.hub, source, replayed(inspection("A", "2026-09-30")), "run-1")
    land_stream(stores.hub, source, replayed(inspection("A", "2026-10-02")), "run-2")
    assert read(stores, "2026-09") == []
    assert read(stores, "2026-10") == ["A"]
    # Back to the version stored first: no new version, and the head's month follows it.
    land_stream(stores.hub, source, replayed(inspection("A", "2026-09-30")), "run-3")
    assert read(stores, "2026-09") == ["A"]
    assert read(stores, "2026-10") == []


def test_a_stream_without_months_is_read_whole(stores: Stores, source: HttpSource) -> None:
    plain = Stream(name="inspections", reader=replayed(inspection("A", "2026-09-30")).reader)
    land_stream(stores.hub, source, plain, "run-1")
    assert read(stores, "2026-10") == ["A"]
