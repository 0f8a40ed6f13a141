"""Landing: versions stored once, changes become new versions, state commits with its page."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.sdk import HttpSource, Page, Stream, StreamError
from pipelines.landing import land_stream, load_state
from pipelines.stores import Stores
from schemas.envelope import RawRecord
from schemas.tables import QuarantineEntry, RawRecordVersion, RecordHead

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def order(
    key: str, status: str = "signed", updated: str = "2026-10-01T10:00:00+08:00"
) -> RawRecord:
    payload = {"id": key, "status": status, "updated_at": updated}
    return RawRecord.wrap(
        source="crm",
        stream="orders",
        record_key=key,
        payload=payload,
        source_updated_at=datetime.fromisoformat(updated),
        extracted_at=NOW,
    )


def scripted_stream(pages: list[Page | Exception]) -> Stream:
    """A stream whose reader replays ``pages``; an exception stands for a failure mid-stream."""

    def reader(
        source: HttpSource, stream: Stream, state: Mapping[str, Any] | None
    ) -> Iterator[Page]:
        for page in pages:
            if isinstance(page, Exception):
                raise page
            yield page

    return Stream(
        name="orders", cursor_field="updated_at", cursor_param="updated_since", reader=reader
    )


@pytest.fixture
def source() -> Iterator[HttpSource]:
    client = httpx.Client(base_url="http://127.0.0.1:9")
    yield HttpSource("crm", client)
    client.close()


def versions(stores: Stores) -> list[tuple[str, str]]:
    with Session(stores.hub) as session:
        rows = session.execute(
            select(
                RawRecordVersion.record_key, RawRecordVersion.payload["status"].as_string()
            ).order_by(RawRecordVersion.id)
        )
        return [tuple(r) for r in rows]


def heads(stores: Stores) -> dict[str, str]:
    with Session(stores.hub) as session:
        rows = session.execute(
            select(RecordHead.record_key, RawRecordVersion.payload["status"].as_string()).join(
                RawRecordVersion, RawRecordVersion.id == RecordHead.version_id
            )
        )
        return dict(rows.all())


def test_same_versions_land_once_and_changes_add_a_version(
    stores: Stores, source: HttpSource
) -> None:
    first = scripted_stream(
        [Page(1, [order("A"), order("B")], {"watermark": "2026-10-01T10:00:00+08:00"}, final=True)]
    )
    stats = land_stream(stores.hub, source, first, "run-1")
    assert (stats.pulled, stats.landed, stats.changed) == (2, 2, 0)
    again = land_stream(stores.hub, source, first, "run-2")
    assert (again.pulled, again.landed, again.changed) == (2, 0, 0)
    cancelled = scripted_stream(
        [
            Page(
                1,
                [order("A", "cancelled", "2026-11-02T09:00:00+08:00"), order("B")],
                {"watermark": "2026-11-02T09:00:00+08:00"},
                final=True,
            )
        ]
    )
    third = land_stream(stores.hub, source, cancelled, "run-3")
    assert (third.landed, third.changed) == (1, 1)
    assert versions(stores) == [("A", "signed"), ("B", "signed"), ("A", "cancelled")]
    assert heads(stores) == {"A": "cancelled", "B": "signed"}


def test_a_page_in_the_same_request_twice_is_stored_once(
    stores: Stores, source: HttpSource
) -> None:
    stream = scripted_stream([Page(1, [order("A"), order("A")], {"watermark": None}, final=True)])
    assert land_stream(stores.hub, source, stream, "run-1").landed == 1
    assert versions(stores) == [("A", "signed")]


def test_a_failure_mid_stream_keeps_landed_pages_and_the_old_watermark(
    stores: Stores, source: HttpSource
) -> None:
    old = {"watermark": "2026-09-30T00:00:00+08:00"}
    failing = scripted_stream(
        [Page(1, [order("A"), order("B")], old), StreamError("crm", "orders", 2, "HTTP 500")]
    )
    with pytest.raises(StreamError, match="crm/orders page 2: HTTP 500"):
        land_stream(stores.hub, source, failing, "run-1")
    with Session(stores.hub) as session:
        assert load_state(session, "crm", "orders") == old
    assert versions(stores) == [("A", "signed"), ("B", "signed")]
    resumed = scripted_stream(
        [
            Page(1, [order("A"), order("B")], old),
            Page(
                2,
                [order("C", updated="2026-10-05T08:00:00+08:00")],
                {"watermark": "2026-10-05T08:00:00+08:00"},
                final=True,
            ),
        ]
    )
    stats = land_stream(stores.hub, source, resumed, "run-2")
    assert (stats.pulled, stats.landed) == (3, 1)
    with Session(stores.hub) as session:
        state = load_state(session, "crm", "orders")
    assert state is not None
    assert state["watermark"] == "2026-10-05T08:00:00+08:00"
    assert versions(stores) == [("A", "signed"), ("B", "signed"), ("C", "signed")]


def test_rejected_records_are_quarantined_once(stores: Stores, source: HttpSource) -> None:
    from connectors.sdk import Rejected

    bad = Rejected({"status": "signed"}, "missing_record_key", "record has no 'id'")
    stream = scripted_stream([Page(1, [order("A")], {}, rejected=[bad], final=True)])
    land_stream(stores.hub, source, stream, "run-1")
    land_stream(stores.hub, source, stream, "run-2")
    with Session(stores.hub) as session:
        rows = session.execute(select(QuarantineEntry.reason, QuarantineEntry.detail)).all()
        assert session.scalar(select(func.count()).select_from(RawRecordVersion)) == 1
    assert [tuple(r) for r in rows] == [
        ("missing_record_key", 'record has no \'id\'; payload {"status":"signed"}')
    ]
