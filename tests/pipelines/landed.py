"""Records put into a hub store through the real landing path, for tests of what happens after
landing (normalisation, identity, quarantine) without a source system in the loop."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.sdk import HttpSource, Page, Stream
from pipelines.landing import LandingStats, land_stream
from pipelines.stores import Stores
from schemas.envelope import RawRecord

EXTRACTED = datetime(2026, 11, 2, tzinfo=UTC)


def land(
    stores: Stores, source: str, stream: str, records: Mapping[str, dict[str, Any]], run_id: str
) -> LandingStats:
    """Land ``records`` (record key -> payload) as one page of ``source``/``stream``."""
    page = Page(
        1,
        [
            RawRecord.wrap(
                source=source,
                stream=stream,
                record_key=key,
                payload=payload,
                source_updated_at=None,
                extracted_at=EXTRACTED,
            )
            for key, payload in records.items()
        ],
        {},
        final=True,
    )

    def replay(_: HttpSource, __: Stream, ___: Mapping[str, Any] | None) -> Iterator[Page]:
        yield page

    # The replayed stream never sends a request; the client only satisfies HttpSource.
    client = httpx.Client(base_url="http://127.0.0.1:9", verify=False)
    try:
        return land_stream(
            stores.hub, HttpSource(source, client), Stream(name=stream, reader=replay), run_id
        )
    finally:
        client.close()
