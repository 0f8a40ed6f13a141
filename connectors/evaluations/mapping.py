"""Imported evaluation rows -> manager_evaluation, project_progress_rate and
innovation_contribution, keyed by job number.

A landed row is one (job number, period, KPI) value; the row's ``period`` column is the month it
scores, so no time stamp is involved. A corrected file lands a new version of the same row, and
the catalog's ``latest`` aggregation keeps the value of the newest version. People without a row
get no fact: an evaluation nobody wrote is missing, not zero.

The import already refuses a KPI outside the template's list (the whole file is held back, or the
row is set aside when only valid rows are imported), so such a row should never land. Should the
template and this mapping ever disagree, the row is quarantined as ``unknown_kpi`` rather than
dropped: a spreadsheet must not silently feed, or silently lose, a score.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from connectors.registry import FactMapping, HeadRecord, MappingResult, RecordReader
from schemas.facts import Observation, PersonRef, QuarantinedRecord

SOURCE = "evaluations"
STREAM = "evaluations"
KPI_CODES = ("manager_evaluation", "project_progress_rate", "innovation_contribution")
PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _quarantine(head: HeadRecord, period: str, reason: str, detail: str) -> QuarantinedRecord:
    return QuarantinedRecord(
        SOURCE, STREAM, head.record_key, head.version_id, period, reason, detail
    )


def _value(text: object) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def evaluation_facts(period: str, records: RecordReader) -> MappingResult:
    observations: list[Observation] = []
    quarantined: list[QuarantinedRecord] = []
    for head in records.heads(STREAM):
        row = head.payload
        row_period = row.get("period")
        if not isinstance(row_period, str) or not PERIOD.fullmatch(row_period):
            detail = f"period {row_period!r} is not a YYYY-MM month"
            quarantined.append(_quarantine(head, period, "bad_period", detail))
            continue
        if row_period != period:
            continue
        kpi = row.get("kpi")
        if kpi not in KPI_CODES:
            detail = f"KPI {kpi!r} is not one of {', '.join(KPI_CODES)}"
            quarantined.append(_quarantine(head, period, "unknown_kpi", detail))
            continue
        value = _value(row.get("value"))
        if value is None:
            detail = f"value {row.get('value')!r} is not a decimal"
            quarantined.append(_quarantine(head, period, "bad_value", detail))
            continue
        person = PersonRef("job_number", str(row.get("job_number") or "").strip())
        observations.append(Observation(person, str(kpi), value, inputs=(head.version_id,)))
    return MappingResult(observations=observations, quarantined=quarantined)


MAPPING = FactMapping(kpi_codes=KPI_CODES, streams=(STREAM,), run=evaluation_facts)
