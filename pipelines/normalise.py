"""The normalisation runner: a source's mapping turns its landed records into observations keyed
by its own person ids; identity resolution turns those into job numbers; the catalog's aggregation
combines them into one fact per job number and KPI; the facts are versioned."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.registry import Connector
from connectors.sdk.log import hub_log
from pipelines.combine import Tally
from pipelines.facts import FactStats, record_keys, save_facts
from pipelines.identity import IdentityResolver, Unresolved
from pipelines.leases import stream_lease
from pipelines.quarantine import record_quarantine_finding, save_quarantine
from pipelines.reader import StoreReader
from schemas.catalog import Catalog, CatalogError, load_catalog
from schemas.facts import Fact, Observation, PersonRef, QuarantinedRecord

log = hub_log("normalise")


@dataclass
class NormaliseStats:
    source: str
    period: str
    facts: int = 0
    people: int = 0
    stored: FactStats = field(default_factory=FactStats)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    unresolved_without_records: int = 0


def resolve_facts(
    session: Session,
    source: str,
    period: str,
    observations: list[Observation],
    resolver: IdentityResolver,
    catalog: Catalog,
) -> tuple[list[Fact], list[QuarantinedRecord], int]:
    """Job-number facts, the quarantined input records of unresolved people, and how many
    unresolved people had no records at all (a zero for an unknown account)."""
    tallies: dict[tuple[str, str, str], Tally] = defaultdict(Tally)
    # Keyed by record and KPI: a record is placed only by a resolved person of the same KPI.
    unresolved_uses: dict[tuple[int, str], Unresolved] = {}
    without_records = 0
    outcomes: dict[tuple[PersonRef, date | None], str | Unresolved] = {}
    for observation in observations:
        ref = (observation.person, observation.on)
        outcome = outcomes.get(ref)
        if outcome is None:
            outcome = outcomes[ref] = resolver.resolve(observation.person, observation.on)
        if isinstance(outcome, Unresolved):
            if not observation.inputs:
                without_records += 1
            for version_id in observation.inputs:
                unresolved_uses.setdefault((version_id, observation.kpi_code), outcome)
            continue
        # Two ids of one person (two CRM accounts, a new badge) add up: all of it is theirs.
        tallies[(outcome, observation.kpi_code, observation.kind)].add(observation)
    # A record shared by a resolved person of the same KPI (a customer of two carers) is not
    # quarantined; one that also feeds another KPI (an order in a carer's repurchase rate) still
    # is, since its own KPI (the contract amount) is on nobody.
    for (_, kpi_code, _), tally in tallies.items():
        for version_id in tally.inputs:
            unresolved_uses.pop((version_id, kpi_code), None)
    unresolved: dict[int, Unresolved] = {}
    for (version_id, _), why in sorted(unresolved_uses.items()):
        unresolved.setdefault(version_id, why)
    refs = record_keys(session, sorted(unresolved))
    quarantined = [
        QuarantinedRecord(
            source=source,
            stream=refs[version_id][0],
            record_key=refs[version_id][1],
            raw_version_id=version_id,
            period=period,
            reason=why.reason,
            detail=why.detail,
        )
        for version_id, why in sorted(unresolved.items())
        if version_id in refs
    ]
    resolved: list[Fact] = []
    for (job_number, kpi_code, kind), tally in sorted(tallies.items()):
        kpi = catalog.get(kpi_code)
        value = tally.result(kpi, kind)
        if value is None:
            continue
        resolved.append(
            Fact(
                job_number=job_number,
                period=period,
                kpi_code=kpi_code,
                value=value,
                unit=kpi.unit,
                source=source,
                inputs=tuple(sorted(tally.inputs)),
                kind=kind,
            )
        )
    return resolved, quarantined, without_records


def normalise_source(
    engine: Engine,
    connector: Connector,
    period: str,
    run_id: str,
    connectors: Mapping[str, Connector],
    catalog: Catalog | None = None,
) -> NormaliseStats:
    """Recompute one source's facts for one period; corrections become new fact versions."""
    stats = NormaliseStats(source=connector.name, period=period)
    if connector.mapping is None:
        return stats
    catalog = catalog or load_catalog()
    codes = (*connector.mapping.kpi_codes, *connector.mapping.target_codes)
    unknown = catalog.unknown(codes)
    if unknown:
        raise CatalogError(
            f"the {connector.name} mapping produces KPI code(s) missing from the catalog: "
            f"{', '.join(unknown)}"
        )
    # One run at a time recomputes a source's month: two at once would both add version n + 1.
    with (
        stream_lease(engine, "facts", f"{connector.name}/{period}", run_id),
        Session(engine) as session,
        session.begin(),
    ):
        result = connector.mapping.run(period, StoreReader(session, connector.name))
        resolver = IdentityResolver.load(session, connectors)
        facts, unresolved, without = (
            resolve_facts(session, connector.name, period, result.observations, resolver, catalog)
            if result.observations
            else ([], [], 0)
        )
        quarantined = [*result.quarantined, *unresolved]
        stats.stored = save_facts(
            session,
            source=connector.name,
            period=period,
            kpi_codes=codes,
            facts=facts,
            run_id=run_id,
        )
        save_quarantine(session, quarantined, run_id)
        record_quarantine_finding(session, connector.name, period, quarantined)
        stats.facts = len(facts)
        stats.people = len({f.job_number for f in facts})
        stats.quarantined_by_reason = dict(sorted(Counter(q.reason for q in quarantined).items()))
        stats.unresolved_without_records = without
    log.info(
        "%s %s: %d facts for %d people (%d new, %d corrected, %d retired)%s",
        connector.name,
        period,
        stats.facts,
        stats.people,
        stats.stored.created,
        stats.stored.corrected,
        stats.stored.retired,
        f"; {len(quarantined)} records quarantined ("
        + ", ".join(f"{r} {n}" for r, n in stats.quarantined_by_reason.items())
        + ")"
        if quarantined
        else "",
    )
    return stats
