"""CRM streams: cursor-paged REST resources, incremental on ``updated_at`` via ``updated_since``."""

from __future__ import annotations

from datetime import timedelta

from connectors.crm.records import Customer, Lead, Order, Survey, User
from connectors.sdk import CursorPaginator, Stream

LOOKBACK = timedelta(hours=1)


def crm_stream(name: str, record_schema: type) -> Stream:
    return Stream(
        name=name,
        path=f"/api/v2/{name}",
        record_key="id",
        record_path="data",
        paginator=CursorPaginator(cursor_param="cursor", next_field="next_cursor", limit=500),
        cursor_field="updated_at",
        cursor_param="updated_since",
        lookback=LOOKBACK,
        record_schema=record_schema,
    )


STREAMS = (
    crm_stream("users", User),
    crm_stream("orders", Order),
    crm_stream("leads", Lead),
    crm_stream("customers", Customer),
    crm_stream("surveys", Survey),
)
