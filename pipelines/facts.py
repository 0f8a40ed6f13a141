"""Versioned KPI facts in the hub store.

A fact changes only by a new version: the old one stays, marked superseded, and the change is
written to the audit log with the old value, the new value and which source records changed.
Saving the same facts twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import now_utc
from schemas.facts import ACTUAL, Fact
from schemas.tables import AuditEntry, FactInput, KpiFactRow, RawRecordVersion


@dataclass
class FactStats:
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    retired: int = 0
    corrections: list[dict[str, Any]] = field(default_factory=list)


def decimal_text(value: Decimal) -> str:
    """A canonical text for a Decimal: ``12345.60`` and ``12345.600000`` are the same number."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def inputs_digest(value: Decimal, inputs: Iterable[int]) -> str:
    text = decimal_text(value) + "|" + ",".join(str(i) for i in sorted(set(inputs)))
    return hashlib.sha256(text.encode()).hexdigest()


def current_facts(
    session: Session,
    period: str,
    kpi_codes: Iterable[str],
    source: str | None = None,
    kind: str | None = ACTUAL,
) -> list[KpiFactRow]:
    """The current facts of ``period``: actuals unless ``kind`` says otherwise (None: both)."""
    query = select(KpiFactRow).where(
        KpiFactRow.period == period,
        KpiFactRow.kpi_code.in_(list(kpi_codes)),
        KpiFactRow.is_current.is_(True),
    )
    if source is not None:
        query = query.where(KpiFactRow.source == source)
    if kind is not None:
        query = query.where(KpiFactRow.kind == kind)
    return list(session.scalars(query))


def fact_inputs(session: Session, fact_ids: Iterable[int]) -> dict[int, list[int]]:
    ids = list(fact_ids)
    found: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for fact_id, version_id in session.execute(
            select(FactInput.fact_id, FactInput.raw_version_id).where(
                FactInput.fact_id.in_(ids[start : start + 500])
            )
        ):
            found[fact_id].append(version_id)
    return found


def record_keys(session: Session, version_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(stream, record key) of each raw record version, read in batches."""
    ids = list(version_ids)
    keys: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        for version_id, stream, key in session.execute(
            select(RawRecordVersion.id, RawRecordVersion.stream, RawRecordVersion.record_key).where(
                RawRecordVersion.id.in_(ids[start : start + 500])
            )
        ):
            keys[version_id] = (stream, key)
    return keys


def describe_change(
    session: Session, old_inputs: list[int], new_inputs: list[int]
) -> dict[str, list[dict[str, Any]]]:
    """Which source records a correction touched: changed versions, added and removed records."""
    keys = record_keys(session, set(old_inputs) | set(new_inputs))
    old_by_key = {keys[v]: v for v in old_inputs if v in keys}
    new_by_key = {keys[v]: v for v in new_inputs if v in keys}
    changed, added, removed = [], [], []
    for ref in sorted(set(old_by_key) | set(new_by_key)):
        entry = {"stream": ref[0], "record_key": ref[1]}
        if ref in old_by_key and ref in new_by_key:
            if old_by_key[ref] != new_by_key[ref]:
                changed.append(
                    {**entry, "old_version": old_by_key[ref], "new_version": new_by_key[ref]}
                )
        elif ref in new_by_key:
            added.append({**entry, "version": new_by_key[ref]})
        else:
            removed.append({**entry, "version": old_by_key[ref]})
    # A record that left the fact because its new version no longer qualifies (an order
    # cancelled after its month) shows as removed; name the version that replaced it.
    for entry in removed:
        newer = session.scalar(
            select(RawRecordVersion.id)
            .where(
                RawRecordVersion.stream == entry["stream"],
                RawRecordVersion.record_key == entry["record_key"],
                RawRecordVersion.id > entry["version"],
            )
            .order_by(RawRecordVersion.id.desc())
            .limit(1)
        )
        if newer is not None:
            entry["replaced_by_version"] = newer
    return {"changed": changed, "added": added, "removed": removed}


def _reason(old: KpiFactRow, new: Fact, change: dict[str, list[dict[str, Any]]]) -> str:
    parts = [f"{new.kpi_code} {decimal_text(old.value)} -> {decimal_text(new.value)}"]
    for label in ("changed", "added", "removed"):
        refs = [f"{c['stream']}/{c['record_key']}" for c in change[label]]
        if refs:
            parts.append(f"{label}: {', '.join(refs[:10])}" + (" ..." if len(refs) > 10 else ""))
    return "; ".join(parts)


def _subject(job_number: str, period: str, kpi_code: str, kind: str) -> str:
    """``E00001/2026-10/contract_amount``, with ``/target`` for a target."""
    return f"{job_number}/{period}/{kpi_code}" + ("" if kind == ACTUAL else f"/{kind}")


def save_facts(
    session: Session,
    *,
    source: str,
    period: str,
    kpi_codes: Iterable[str],
    facts: Iterable[Fact],
    run_id: str,
) -> FactStats:
    """Make ``facts`` the current facts of ``source`` for ``period`` and these KPIs."""
    codes = list(kpi_codes)
    now = now_utc()
    stats = FactStats()
    current = {
        (f.job_number, f.kpi_code, f.kind): f
        for f in current_facts(session, period, codes, source, kind=None)
    }
    current_inputs = fact_inputs(session, [f.id for f in current.values()])
    produced: set[tuple[str, str, str]] = set()
    for fact in facts:
        ref = (fact.job_number, fact.kpi_code, fact.kind)
        produced.add(ref)
        digest = inputs_digest(fact.value, fact.inputs)
        old = current.get(ref)
        if old is not None and old.inputs_sha256 == digest:
            stats.unchanged += 1
            continue
        reason = None
        if old is not None:
            change = describe_change(session, current_inputs.get(old.id, []), list(fact.inputs))
            reason = _reason(old, fact, change)
            old.is_current = False
            old.superseded_at = now
            session.flush()
            detail = {
                "job_number": fact.job_number,
                "period": period,
                "kpi_code": fact.kpi_code,
                "kind": fact.kind,
                "old_value": decimal_text(old.value),
                "new_value": decimal_text(fact.value),
                "old_fact_id": old.id,
                **change,
            }
            stats.corrections.append(detail)
            stats.corrected += 1
        else:
            stats.created += 1
        row = KpiFactRow(
            job_number=fact.job_number,
            period=period,
            kpi_code=fact.kpi_code,
            kind=fact.kind,
            value=fact.value,
            unit=fact.unit,
            source=source,
            version=(old.version + 1) if old is not None else 1,
            is_current=True,
            inputs_sha256=digest,
            change_reason=reason,
            created_at=now,
            run_id=run_id,
        )
        session.add(row)
        session.flush()
        if old is not None:
            stats.corrections[-1]["new_fact_id"] = row.id
            session.add(
                AuditEntry(
                    at=now,
                    run_id=run_id,
                    action="fact.corrected",
                    subject=_subject(fact.job_number, period, fact.kpi_code, fact.kind),
                    detail=stats.corrections[-1],
                )
            )
        if fact.inputs:
            session.execute(
                FactInput.__table__.insert(),
                [{"fact_id": row.id, "raw_version_id": v} for v in sorted(set(fact.inputs))],
            )
    for ref, old in current.items():
        if ref not in produced:
            old.is_current = False
            old.superseded_at = now
            stats.retired += 1
            session.add(
                AuditEntry(
                    at=now,
                    run_id=run_id,
                    action="fact.retired",
                    subject=_subject(ref[0], period, ref[1], ref[2]),
                    detail={"fact_id": old.id, "old_value": decimal_text(old.value)},
                )
            )
    return stats
