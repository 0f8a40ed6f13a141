"""The normalisation runner: a source's mapping turns its landed records into facts keyed by its
own person ids; identity resolution turns those into job numbers; the facts are versioned."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from connectors.registry import Connector
from pipelines.facts import FactStats, save_facts
from pipelines.identity import IdentityResolver, Unresolved
from pipelines.quarantine import record_quarantine_finding, save_quarantine
from pipelines.reader import StoreReader
from schemas.facts import Fact, QuarantinedRecord, SourceFact
from schemas.tables import RawRecordVersion


@dataclass
class NormaliseStats:
    source: str
    period: str
    facts: int = 0
    people: int = 0
    stored: FactStats = field(default_factory=FactStats)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    unresolved_without_records: int = 0


def _record_refs(session: Session, version_ids: list[int]) -> dict[int, tuple[str, str]]:
    refs: dict[int, tuple[str, str]] = {}
    for start in range(0, len(version_ids), 500):
        rows = session.execute(
            select(RawRecordVersion.id, RawRecordVersion.stream, RawRecordVersion.record_key).where(
                RawRecordVersion.id.in_(version_ids[start : start + 500])
            )
        )
        refs.update({vid: (stream, key) for vid, stream, key in rows})
    return refs


def resolve_facts(
    session: Session, source: str, facts: list[SourceFact], resolver: IdentityResolver
) -> tuple[list[Fact], list[QuarantinedRecord], int]:
    """Job-number facts, the quarantined input records of unresolved people, and how many
    unresolved people had no records at all (a zero fact for an unknown account)."""
    merged: dict[tuple[str, str], tuple[Decimal, set[int], str]] = {}
    unresolved: list[tuple[SourceFact, Unresolved]] = []
    without_records = 0
    for fact in facts:
        outcome = resolver.resolve(fact.person)
        if isinstance(outcome, Unresolved):
            if fact.inputs:
                unresolved.append((fact, outcome))
            else:
                without_records += 1
            continue
        ref = (outcome, fact.kpi_code)
        value, inputs, unit = merged.get(ref, (Decimal(0), set(), fact.unit))
        # Two accounts of one person in the same system add up (their orders are all theirs).
        merged[ref] = (value + fact.value, inputs | set(fact.inputs), unit)
    refs = _record_refs(session, sorted({v for f, _ in unresolved for v in f.inputs}))
    quarantined = [
        QuarantinedRecord(
            source=source,
            stream=refs[version_id][0],
            record_key=refs[version_id][1],
            raw_version_id=version_id,
            period=fact.period,
            reason=why.reason,
            detail=why.detail,
        )
        for fact, why in unresolved
        for version_id in fact.inputs
        if version_id in refs
    ]
    resolved = [
        Fact(
            job_number=job_number,
            period=facts[0].period,
            kpi_code=kpi_code,
            value=value,
            unit=unit,
            source=source,
            inputs=tuple(sorted(inputs)),
        )
        for (job_number, kpi_code), (value, inputs, unit) in sorted(merged.items())
    ]
    return resolved, quarantined, without_records


def normalise_source(
    engine: Engine,
    connector: Connector,
    period: str,
    run_id: str,
    connectors: Mapping[str, Connector],
) -> NormaliseStats:
    """Recompute one source's facts for one period; corrections become new fact versions."""
    stats = NormaliseStats(source=connector.name, period=period)
    if connector.mapping is None:
        return stats
    with Session(engine) as session, session.begin():
        result = connector.mapping.run(period, StoreReader(session, connector.name))
        resolver = IdentityResolver.load(session, connectors)
        facts, unresolved, without = (
            resolve_facts(session, connector.name, result.facts, resolver)
            if result.facts
            else ([], [], 0)
        )
        quarantined = [*result.quarantined, *unresolved]
        stats.stored = save_facts(
            session,
            source=connector.name,
            period=period,
            kpi_codes=connector.mapping.kpi_codes,
            facts=facts,
            run_id=run_id,
        )
        save_quarantine(session, quarantined, run_id)
        record_quarantine_finding(session, connector.name, period, quarantined)
        stats.facts = len(facts)
        stats.people = len({f.job_number for f in facts})
        stats.quarantined_by_reason = dict(sorted(Counter(q.reason for q in quarantined).items()))
        stats.unresolved_without_records = without
    return stats
