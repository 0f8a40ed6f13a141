"""ERP streams: one per table, read in ``FMODIFYDATE`` order from the last watermark minus a
lookback. Stream names are the table names in lower case (``ar_receipt`` reads ``AR_RECEIPT``).

The lookback is a day because ERP clerks post and approve documents in long transactions: a row
can commit after rows with a later ``FMODIFYDATE`` were already read. Re-read rows are dropped at
landing (same key, same payload hash).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from connectors.erp.mapping import dated_period, period_column
from connectors.erp.records import (
    BadgeAssignment,
    CostLine,
    Employee,
    ProductionReceipt,
    Receipt,
    Target,
)
from connectors.sdk import Stream
from connectors.sdk.stream import PeriodOf

LOOKBACK = timedelta(days=1)
WATERMARK = "FMODIFYDATE"
BATCH_SIZE = 1000


def erp_stream(
    table: str,
    keys: tuple[str, ...],
    record_schema: type[BaseModel],
    decimals: dict[str, int] | None = None,
    event_period: PeriodOf | None = None,
) -> Stream:
    return Stream(
        name=table.lower(),
        table=table,
        record_key=keys[0],
        key_columns=keys,
        cursor_field=WATERMARK,
        lookback=LOOKBACK,
        batch_size=BATCH_SIZE,
        decimals=decimals or {},
        record_schema=record_schema,
        event_period=event_period,
    )


STREAMS = (
    erp_stream("HR_EMP", ("FEMPNO",), Employee),
    erp_stream("HR_EMP_BADGE", ("FID",), BadgeAssignment),
    erp_stream("AR_RECEIPT", ("FID",), Receipt, {"FRECAMOUNT": 2}, dated_period),
    erp_stream("SAL_TARGET", ("FEMPNO", "FPERIOD", "FKPI"), Target, {"FTARGET": 4},
               period_column),
    erp_stream("PRD_INSTOCK", ("FID",), ProductionReceipt, {"FQTY": 4}, dated_period),
    erp_stream("CB_COST", ("FCOSTCENTER", "FPERIOD"), CostLine,
               {"FTARGETCOST": 2, "FACTUALCOST": 2}, period_column),
)  # fmt: skip
