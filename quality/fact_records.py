"""The raw records behind a month's facts, payloads included: what the detectors that look at
how a value was booked (twice, by whom) read, rather than at the value itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.tables import FactInput, KpiFactRow, RawRecordVersion

BATCH = 500


@dataclass(frozen=True)
class InputRecord:
    stream: str
    record_key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class FactRecords:
    """One current fact and the raw record versions it was computed from."""

    job_number: str
    value: Decimal
    records: tuple[InputRecord, ...]


def fact_records(
    session: Session,
    source: str,
    kpi_code: str,
    period: str,
    fields: Collection[str] | None = None,
) -> list[FactRecords]:
    """The current actual facts of one KPI, source and month, each with its input records, in
    job-number order. With ``fields``, each payload keeps only those: a large company's month
    of production receipts is then a few values a record, not every record whole."""
    facts = list(
        session.scalars(
            select(KpiFactRow)
            .where(
                KpiFactRow.source == source,
                KpiFactRow.kpi_code == kpi_code,
                KpiFactRow.period == period,
                KpiFactRow.is_current.is_(True),
                KpiFactRow.kind == "actual",
            )
            .order_by(KpiFactRow.job_number)
        )
    )
    inputs: dict[int, list[InputRecord]] = defaultdict(list)
    ids = [f.id for f in facts]
    for start in range(0, len(ids), BATCH):
        rows = session.execute(
            select(
                FactInput.fact_id,
                RawRecordVersion.stream,
                RawRecordVersion.record_key,
                RawRecordVersion.payload,
            )
            .join(RawRecordVersion, RawRecordVersion.id == FactInput.raw_version_id)
            .where(FactInput.fact_id.in_(ids[start : start + BATCH]))
            .execution_options(yield_per=5000)
        )
        for fact_id, stream, key, payload in rows:
            kept = payload or {}
            if fields is not None:
                kept = {f: kept[f] for f in fields if f in kept}
            inputs[fact_id].append(InputRecord(stream, key, kept))
    return [
        FactRecords(f.job_number, f.value, tuple(sorted(inputs[f.id], key=lambda r: r.record_key)))
        for f in facts
    ]
