"""How long a manager waits for a trace: ``pipelines.lineage.trace`` called in this process for
random published scores, and ``kpihub trace`` run from the shell as a person would, start-up
included."""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.lineage import trace
from pipelines.stores import Stores
from pipelines.talent_pool import pool_rules
from schemas.tables import Score
from schemas.templates import ScoringTemplate


@dataclass(frozen=True)
class TraceLatency:
    p50_ms: float | None
    p95_ms: float | None
    cli_p50_ms: float | None
    samples: int
    cli_runs: int


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def published(stores: Stores) -> list[tuple[str, str]]:
    """Every (job number, period) with a current score."""
    with Session(stores.hr) as session:
        rows = session.execute(
            select(Score.job_number, Score.period).where(Score.is_current.is_(True))
        )
        return sorted((job, period) for job, period in rows)


def kpihub_command() -> list[str]:
    """The ``kpihub`` script of this environment, as the shell would run it."""
    script = Path(sys.executable).with_name("kpihub")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from orchestration.cli.main import app; app()"]


def time_cli(subject: tuple[str, str], database_url: str, home: Path, runs: int) -> list[float]:
    """Seconds of each ``kpihub trace`` run against the benchmark's store."""
    env = {k: v for k, v in os.environ.items() if k != "KPIHUB_HR_STORE_URL"}
    env.update(KPIHUB_HOME=str(home), KPIHUB_DATABASE_URL=database_url)
    job, period = subject
    command = [*kpihub_command(), "trace", job, "--period", period, "--json"]
    seconds: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"kpihub trace failed: {reason[-1] if reason else done.returncode}")
        seconds.append(elapsed)
    return seconds


def measure_traces(
    stores: Stores,
    templates: list[ScoringTemplate],
    *,
    seed: int,
    samples: int,
    database_url: str,
    home: Path,
    cli_runs: int,
) -> TraceLatency:
    """Trace ``samples`` random (person, month) scores in-process, then ``cli_runs`` from the
    shell; the same seed picks the same people."""
    subjects = published(stores)
    if not subjects:
        return TraceLatency(None, None, None, 0, 0)
    rng = random.Random(seed)
    picked = [rng.choice(subjects) for _ in range(samples)]
    rules = pool_rules(templates)
    trace(stores, *picked[0], pool_rules=rules)  # the first call pays for imports and caches
    latencies: list[float] = []
    for job, period in picked:
        started = time.perf_counter()
        trace(stores, job, period, pool_rules=rules)
        latencies.append((time.perf_counter() - started) * 1000)
    cli = time_cli(picked[0], database_url, home, cli_runs) if cli_runs else []
    return TraceLatency(
        _quantile(latencies, 0.5),
        _quantile(latencies, 0.95),
        statistics.median(cli) * 1000 if cli else None,
        len(latencies),
        len(cli),
    )
