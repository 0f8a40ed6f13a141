"""``kpihub bench``: how fast, and in how much memory, the hub lands and normalises a company.

The hub's own code runs against the sandbox over loopback and through the ODBC driver, as in
production; nothing is mocked. Each source's streams are landed into a fresh store, then each
source is normalised for the closed months. Speed and memory goals live here, not in tests:
rates depend on the machine, and the numbers are for comparing one change with the next.

Memory is the Python heap's peak while one step runs (``tracemalloc``); tracing slows the code
it watches, so it is asked for with ``--memory`` and the seconds of such a run are not rates.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from connectors.registry import Connector
from connectors.testing.reading import pinned_today
from pipelines.landing import land_stream
from pipelines.normalise import normalise_source
from pipelines.stores import Stores
from schemas.migrations.apply import upgrade_stores

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    """One measured step: landing one stream, or normalising one source for one month."""

    phase: str
    source: str
    subject: str
    items: int
    seconds: float
    peak_mib: float | None

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "per_second": round(self.per_second, 1)}


def _timed(work: Callable[[], T], memory: bool) -> tuple[T, float, float | None]:
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - started
        peak = None
        if memory:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    return result, seconds, peak


@contextmanager
def bench_store(url: str | None) -> Iterator[Stores]:
    """The given store, migrated, or a fresh SQLite file removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="kpihub-bench-") as scratch:
        target = url or f"sqlite:///{Path(scratch) / 'hub.db'}"
        upgrade_stores(target, target)
        stores = Stores.connect(target, target)
        try:
            yield stores
        finally:
            stores.dispose()


def land_sources(
    stores: Stores,
    connectors: Mapping[str, Connector],
    environ: Mapping[str, str],
    memory: bool,
) -> list[Step]:
    steps: list[Step] = []
    for connector in connectors.values():
        for stream in connector.streams:
            source = connector.connect(environ)
            try:
                stats, seconds, peak = _timed(
                    lambda s=stream, c=source: land_stream(stores.hub, c, s, "bench"), memory
                )
            finally:
                source.close()
            steps.append(Step("land", connector.name, stream.name, stats.pulled, seconds, peak))
    return steps


def normalise_sources(
    stores: Stores,
    connectors: Mapping[str, Connector],
    everyone: Mapping[str, Connector],
    periods: list[str],
    memory: bool,
) -> list[Step]:
    steps: list[Step] = []
    for connector in connectors.values():
        if connector.mapping is None:
            continue
        for period in periods:
            stats, seconds, peak = _timed(
                lambda c=connector, p=period: normalise_source(stores.hub, c, p, "bench", everyone),
                memory,
            )
            steps.append(Step("normalise", connector.name, period, stats.facts, seconds, peak))
    return steps


def run_bench(
    *,
    seed: int,
    employees: int,
    months: int,
    sources: Mapping[str, Connector],
    everyone: Mapping[str, Connector],
    as_of: date,
    database_url: str | None,
    memory: bool,
) -> list[Step]:
    """Land ``sources`` from a sandbox company and normalise its last ``months`` closed months.
    Identity comes from the directories, so their sources are landed even when not asked for."""
    from sandbox.model import generate_world
    from sandbox.serving import SandboxServer

    world = generate_world(seed=seed, employees=employees, as_of=as_of)
    periods = world.closed_periods[-months:]
    needed = {
        name: c
        for name, c in everyone.items()
        if name in sources or c.directory is not None or c.person_links is not None
    }
    with SandboxServer(world) as server, bench_store(database_url) as stores:
        with pinned_today(as_of, str(months)):
            landed = land_sources(stores, needed, server.endpoints, memory)
        return landed + normalise_sources(stores, sources, everyone, periods, memory)
