"""The stages of a month as the benchmark runs them: the same functions the Dagster assets and
their checks call, called directly, so that a stage's time is the hub's work and not the
orchestrator's bookkeeping.

- pull and land: ``land_stream`` per stream; its stats split waiting for the source's pages
  (pull) from storing them with their state (land).
- normalise: ``normalise_source`` per source with a mapping.
- check: the raw streams' suites on what the run landed, the fact suites on the month's facts
  (great-expectations both) and anomaly detection, as the raw and fact asset checks run them.
- score: drafting and grading everyone's score from the month's facts.
- publish: writing the score versions, their components and the facts they read (the lineage a
  trace follows) to the HR store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from connectors.registry import Connector
from connectors.sdk.stream import Stream
from pipelines.facts import current_facts
from pipelines.landing import land_stream
from pipelines.normalise import normalise_source
from pipelines.publishing import Drafts, PublishStats, draft_scores, publish
from pipelines.roster import load_people
from pipelines.stores import Stores
from schemas.catalog import Catalog
from schemas.templates import ScoringTemplate

T = TypeVar("T")
STAGES = ("pull", "land", "normalise", "check", "score", "publish")


@dataclass
class Stage:
    """Seconds spent and records handled by one stage, summed over what it ran on."""

    name: str
    seconds: float = 0.0
    records: int = 0

    def add(self, seconds: float, records: int) -> None:
        self.seconds += seconds
        self.records += records

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "seconds": round(self.seconds, 3),
            "records": self.records,
            "records_per_s": round(self.records_per_s, 1),
        }


@dataclass(frozen=True)
class Landed:
    """One stream's landing: records pulled, versions new to the store, and where time went."""

    source: str
    stream: str
    pulled: int
    new_versions: int
    read_seconds: float
    write_seconds: float

    @property
    def name(self) -> str:
        return f"{self.source}/{self.stream}"

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.write_seconds

    @property
    def records_per_s(self) -> float:
        return self.pulled / self.seconds if self.seconds else 0.0


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def land(
    stores: Stores, connector: Connector, stream: Stream, environ: Mapping[str, str], run_id: str
) -> Landed:
    source = connector.connect(environ)
    try:
        stats = land_stream(stores.hub, source, stream, run_id)
    finally:
        source.close()
    return Landed(
        connector.name,
        stream.name,
        stats.pulled,
        stats.landed,
        stats.read_seconds,
        stats.write_seconds,
    )


def normalise(
    stores: Stores,
    connector: Connector,
    period: str,
    run_id: str,
    everyone: Mapping[str, Connector],
    catalog: Catalog,
) -> int:
    """Normalise one source's month; returns the facts it holds now."""
    return normalise_source(stores.hub, connector, period, run_id, everyone, catalog).facts


def check_raw(stores: Stores, landed: Iterable[Landed], run_id: str) -> int:
    """Run each landed stream's suite on what ``run_id`` landed; returns the rows judged."""
    from quality.raw_suites import validate_stream

    judged = 0
    with Session(stores.hub) as session:
        for item in landed:
            results = validate_stream(session, item.source, item.stream, run_id)
            judged += max((r.evaluated for r in results), default=0)
    return judged


def check_facts(stores: Stores, connector: Connector, period: str, catalog: Catalog) -> int:
    """The source's fact suite on the month's facts, actuals and targets; returns the facts."""
    from quality.expectations import validate_rows
    from quality.fact_suites import FACT_COLUMNS, FACT_KEY, fact_suite

    mapping = connector.mapping
    assert mapping is not None
    codes = (*mapping.kpi_codes, *mapping.target_codes)
    suite = fact_suite(catalog, codes)
    with Session(stores.hub) as session:
        rows = [
            {c: getattr(f, c) for c in FACT_COLUMNS}
            for f in current_facts(session, period, codes, connector.name, kind=None)
        ]
    if suite and rows:
        validate_rows(rows, suite, columns=FACT_COLUMNS, key=FACT_KEY)
    return len(rows)


def detect_anomalies(
    stores: Stores, connector: Connector, period: str, run_id: str, catalog: Catalog
) -> int:
    """Anomaly detection of the source's month, raising its findings; returns how many."""
    from quality.anomalies import run_anomaly_detection

    if not any(k.anomaly.enabled for k in catalog.from_source(connector.name)):
        return 0
    with Session(stores.hub) as session, session.begin():
        return len(run_anomaly_detection(session, catalog, connector.name, period, run_id))


def score(
    stores: Stores,
    period: str,
    templates: list[ScoringTemplate],
    everyone: Mapping[str, Connector],
) -> Drafts:
    with Session(stores.hub) as session:
        return draft_scores(session, period, templates, load_people(session, everyone))


def publish_scores(stores: Stores, drafts: Drafts, period: str, run_id: str) -> PublishStats:
    return publish(stores, drafts, period, run_id)
