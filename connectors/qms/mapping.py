"""QMS inspections -> semi-finished yield, keyed by the operator's badge.

semi_finished_yield_rate = qualified / inspected x 100% over the semi-finished inspections whose
``inspected_at`` (naive Asia/Shanghai local time) falls in the period. Each inspection is one
ratio observation (qualified as the value, inspected as the weight), so the core divides once per
job number after both badges of a person, or both holders of one badge, are resolved.

A badge changes hands (a leaver's badge goes to a new hire in the middle of a month), so every
observation carries the local day of the inspection and the badge resolves to whoever held it
that day, through the ERP's badge history.

The QMS pages a live table and may serve an item twice; landing keys inspections by
``inspection_id`` so a twice-served item is one record. Should two records still name the same
inspection (an id landed with and without stray spaces), only the newest version counts: an
inspection is counted once, never twice.

Finished-stage items and other periods' items do not count and are skipped. An in-period
semi-finished item with an unreadable time stamp, an unknown stage or impossible quantities
(missing, negative, fractional, or more qualified than inspected) is quarantined: its
contribution cannot be known, and guessing would move someone's yield.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.registry import FactMapping, HeadRecord, MappingResult, RecordReader
from connectors.sdk.timeparse import SHANGHAI, parse_instant
from schemas.facts import Observation, PersonRef, QuarantinedRecord

SOURCE = "qms"
STREAM = "inspections"
KPI = "semi_finished_yield_rate"
BADGE = "badge"
SEMI_FINISHED = "semi_finished"
FINISHED = "finished"


class BadQuantity(ValueError):
    """A quantity that cannot be a count of pieces."""


@dataclass(frozen=True)
class Counted:
    """One semi-finished inspection of the period, as it enters the yield."""

    version_id: int
    badge: str
    qualified: Decimal
    inspected: Decimal
    day: date


def _quarantine(head: HeadRecord, period: str, reason: str, detail: str) -> QuarantinedRecord:
    return QuarantinedRecord(
        SOURCE, STREAM, head.record_key, head.version_id, period, reason, detail
    )


def pieces(item: dict[str, Any], field: str) -> Decimal:
    """A quantity as a whole, non-negative number of pieces; anything else raises."""
    raw = item.get(field)
    if raw is None or isinstance(raw, bool):
        raise BadQuantity(f"{field} {raw!r} is not a count of pieces")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadQuantity(f"{field} {raw!r} is not a number") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise BadQuantity(f"{field} {raw!r} is not a whole number of pieces")
    if value < 0:
        raise BadQuantity(f"{field} {raw!r} is negative")
    return value.to_integral_value()


def _inspection_id(head: HeadRecord) -> str:
    return str(head.payload.get("inspection_id") or head.record_key).strip()


def inspection_period(item: Mapping[str, Any]) -> str | None:
    """The local month of an inspection, as ``semi_finished_yield`` counts it."""
    try:
        return parse_instant(str(item["inspected_at"])).astimezone(SHANGHAI).strftime("%Y-%m")
    except (KeyError, TypeError, ValueError):
        return None


def semi_finished_yield(period: str, records: RecordReader) -> MappingResult:
    quarantined: list[QuarantinedRecord] = []
    newest: dict[str, Counted] = {}
    for head in records.heads(STREAM, period=period):
        item = head.payload
        stage = item.get("stage")
        if stage == FINISHED:
            continue
        try:
            moment = parse_instant(str(item["inspected_at"])).astimezone(SHANGHAI)
        except (KeyError, TypeError, ValueError):
            detail = (
                f"inspected_at {item.get('inspected_at')!r} is not a "
                "'YYYY-MM-DD HH:MM:SS' local time"
            )
            quarantined.append(_quarantine(head, period, "bad_timestamp", detail))
            continue
        if moment.strftime("%Y-%m") != period:
            continue
        if stage != SEMI_FINISHED:
            detail = f"stage {stage!r} is neither {SEMI_FINISHED!r} nor {FINISHED!r}"
            quarantined.append(_quarantine(head, period, "unknown_stage", detail))
            continue
        try:
            inspected = pieces(item, "inspected_qty")
            qualified = pieces(item, "qualified_qty")
        except BadQuantity as exc:
            quarantined.append(_quarantine(head, period, "bad_quantity", str(exc)))
            continue
        if qualified > inspected:
            detail = f"qualified_qty {qualified} exceeds inspected_qty {inspected}"
            quarantined.append(_quarantine(head, period, "qualified_exceeds_inspected", detail))
            continue
        counted = Counted(
            version_id=head.version_id,
            badge=str(item.get("operator_badge") or "").strip(),
            qualified=qualified,
            inspected=inspected,
            day=moment.date(),
        )
        key = _inspection_id(head)
        held = newest.get(key)
        if held is None or head.version_id > held.version_id:
            newest[key] = counted
    observations = [
        Observation(
            person=PersonRef(BADGE, counted.badge),
            kpi_code=KPI,
            value=counted.qualified,
            weight=counted.inspected,
            on=counted.day,
            inputs=(counted.version_id,),
        )
        for _, counted in sorted(newest.items())
    ]
    return MappingResult(observations=observations, quarantined=quarantined)


MAPPING = FactMapping(kpi_codes=(KPI,), streams=(STREAM,), run=semi_finished_yield)
