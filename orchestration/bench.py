"""``kpihub bench``: how fast, and in how much memory, the hub takes a company's month from its
sources to published, traceable scores, set beside what the sources can give and what a general
loader (dlt) does with them.

The hub's own code runs against the sandbox over loopback and through the ODBC driver, as in
production; the sandbox serves from a process of its own. One run, against one sandbox:
1. a month end to end: every stream asked for is pulled and landed from scratch (with
   ``history`` months landed, all of them), then the last ``months`` closed months are
   normalised, checked, scored and published; earlier landed months are taken through the same
   stages first, untimed, so the trace has their scores and anomaly detection their history;
2. an incremental re-sync after the sandbox changed its share of records (1%);
3. trace latency, in-process and from the shell;
4. the same endpoints pulled by a plain client (the physical limit), then by dlt; the plain
   client also pulls once before anything is timed, so that no one pays for the sandbox
   generating its records on first demand.
Peak RSS is this process's high-water mark after step 3, before the comparisons run in it.
Speed goals live here and in the README, not in tests: rates depend on the machine.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from connectors.registry import Connector
from connectors.sdk.stream import Stream
from connectors.testing.reading import pinned_today
from orchestration import bench_stages as stages
from orchestration.bench_sandbox import RunningSandbox, sandbox_process
from orchestration.bench_stages import STAGES, Landed, Stage, timed
from pipelines.stores import Stores
from schemas.catalog import load_catalog
from schemas.migrations.apply import upgrade_stores
from schemas.settings import get_settings
from schemas.templates import ScoringTemplate, load_templates

PLAIN_SYSTEMS = ("crm", "qms", "attendance")
"""The HTTP systems a plain client pulls; DingTalk is held by its budget for everyone, and the
ERP is a database, not an endpoint."""


class Watcher(Protocol):
    """Told what the benchmark is doing, for a progress display; it must not fail the run."""

    def phase(self, name: str, total: int) -> None: ...

    def step(self, detail: str) -> None: ...


class QuietWatcher:
    def phase(self, name: str, total: int) -> None:
        return None

    def step(self, detail: str) -> None:
        return None


@dataclass(frozen=True)
class BenchOptions:
    seed: int = 42
    employees: int = 200
    months: int = 1
    history: int = 1
    sources: tuple[str, ...] = ()
    database_url: str | None = None
    trace_samples: int = 1000
    cli_runs: int = 5
    change_fraction: float = 0.01
    compare: bool = True


def landing_plan(
    sources: tuple[str, ...], everyone: Mapping[str, Connector]
) -> list[tuple[Connector, Stream]]:
    """The streams to land: every stream of the sources asked for, the streams their mappings
    read from other sources, and every source's identity streams (each fact asset depends on
    them); nothing else, in registry order."""
    wanted = {(name, s.name) for name in sources for s in everyone[name].streams}
    for name in sources:
        mapping = everyone[name].mapping
        for ref in mapping.reads if mapping is not None else ():
            source, stream = ref.split("/", 1)
            wanted.add((source, stream))
    wanted |= {(c.name, s) for c in everyone.values() for s in c.identity_streams}
    return [(c, s) for c in everyone.values() for s in c.streams if (c.name, s.name) in wanted]


def peak_rss_mb() -> float:
    """This process's peak resident set (kilobytes on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def dingtalk_budget_use() -> tuple[float | None, list[dict[str, Any]]]:
    """The share of DingTalk's per-API budgets the run's pulls used, over the APIs it called,
    with each API's account; None where the rate budgets keep no account."""
    from connectors.sdk.rate import RateBudget

    usage = getattr(RateBudget, "usage", None)
    if usage is None:
        return None, []
    used = [u for k, u in usage().items() if k.startswith("dingtalk/") and u.calls]
    if not used:
        return None, []
    capacity = sum(u.seconds * u.per_second for u in used)
    detail = [
        {
            "api": u.key,
            "calls": u.calls,
            "seconds": round(u.seconds, 3),
            "per_second": u.per_second,
            "used": round(u.used, 3),
            "throttled": u.throttled,
        }
        for u in used
    ]
    return (round(sum(u.calls for u in used) / capacity, 3) if capacity else None), detail


def _reset_budgets() -> None:
    from connectors.sdk.rate import RateBudget

    reset = getattr(RateBudget, "reset_usage", None)
    if reset is not None:
        reset()


class MonthRun:
    """The hub's part of one benchmark: the stores, the sandbox and what was measured."""

    def __init__(
        self,
        options: BenchOptions,
        everyone: Mapping[str, Connector],
        stores: Stores,
        sandbox: RunningSandbox,
        watcher: Watcher,
    ) -> None:
        self.options = options
        self.everyone = everyone
        self.stores = stores
        self.sandbox = sandbox
        self.watcher = watcher
        self.stages = {name: Stage(name) for name in STAGES}
        self.catalog = load_catalog()
        templates_dir = get_settings().templates_dir
        assert templates_dir is not None
        self.templates: list[ScoringTemplate] = load_templates(templates_dir)
        self.plan = landing_plan(options.sources, everyone)
        self.mapped = [everyone[n] for n in options.sources if everyone[n].mapping is not None]
        self.raw_checked = False

    def land_all(self, run_id: str) -> list[Landed]:
        self.watcher.phase(f"landing ({run_id})", len(self.plan))
        landed: list[Landed] = []
        for connector, stream in self.plan:
            self.watcher.step(f"{connector.name}/{stream.name}")
            landed.append(
                stages.land(self.stores, connector, stream, self.sandbox.endpoints, run_id)
            )
        return landed

    def month(self, period: str, run_id: str, landed: list[Landed], measured: bool) -> float:
        """Normalise, check, score and publish ``period``; returns the normalising seconds.
        ``measured`` adds the stages' times to the benchmark's."""
        board = self.stages if measured else {name: Stage(name) for name in STAGES}
        self.watcher.phase(f"{period}: normalise, check, score, publish", len(self.mapped) + 3)
        normalised = 0.0
        for connector in self.mapped:
            self.watcher.step(f"normalise {connector.name}")
            facts, seconds = timed(
                lambda c=connector: stages.normalise(
                    self.stores, c, period, run_id, self.everyone, self.catalog
                )
            )
            board["normalise"].add(seconds, facts)
            normalised += seconds
        self.watcher.step("check")
        started = time.perf_counter()
        checked = 0
        if measured and not self.raw_checked:
            # The raw suites judge what the sync landed, once, whatever the months scored.
            checked = stages.check_raw(self.stores, landed, "bench")
            self.raw_checked = True
        for connector in self.mapped:
            checked += stages.check_facts(self.stores, connector, period, self.catalog)
            stages.detect_anomalies(self.stores, connector, period, run_id, self.catalog)
        board["check"].add(time.perf_counter() - started, checked)
        self.watcher.step("score")
        drafts, seconds = timed(
            lambda: stages.score(self.stores, period, self.templates, self.everyone)
        )
        board["score"].add(seconds, len(drafts.scores))
        self.watcher.step("publish")
        published, seconds = timed(
            lambda: stages.publish_scores(self.stores, drafts, period, run_id)
        )
        board["publish"].add(seconds, published.scored)
        return normalised


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def _rate(records: int, seconds: float) -> float | None:
    return round(records / seconds, 1) if seconds else None


def _plain_pull(
    options: BenchOptions, sandbox: RunningSandbox, first: date, watcher: Watcher
) -> dict[str, Any]:
    """A plain client's pull of the windows the hub's first pull reads: everything the CRM has
    (no ``updated_since`` before a watermark exists), the landed months of the date-windowed
    systems."""
    from sandbox.measure import EVERYTHING, pull_range

    plain: dict[str, Any] = {}
    for system in (s for s in PLAIN_SYSTEMS if s in options.sources):
        watcher.step(system)
        since = EVERYTHING if system == "crm" else first
        for rate in pull_range(sandbox.endpoints, since, sandbox.as_of, (system,)):
            plain[rate.name] = rate
    return plain


def _warm_up(options: BenchOptions, sandbox: RunningSandbox, first: date, watcher: Watcher) -> None:
    """Pull once, untimed, before anything is measured: the sandbox generates a day's records
    when first asked for them, and neither the hub nor the plain client should pay for that."""
    watcher.phase("warming the sandbox up", len(PLAIN_SYSTEMS))
    _plain_pull(options, sandbox, first, watcher)


def _comparisons(
    options: BenchOptions,
    sandbox: RunningSandbox,
    first: date,
    landed: list[Landed],
    scratch: Path,
    watcher: Watcher,
) -> dict[str, Any]:
    from orchestration.bench_dlt import DLT_STREAMS, dlt_installed, load_with_dlt

    hub = {item.name: item for item in landed}
    watcher.phase("plain client", len(PLAIN_SYSTEMS))
    plain = _plain_pull(options, sandbox, first, watcher)
    dlt_rates: dict[str, Any] = {}
    dlt_note = None
    wanted = tuple(s for s in DLT_STREAMS if s in hub)
    if not dlt_installed():
        dlt_note = "dlt is not installed (pip install -e .[bench])"
    elif wanted:
        watcher.phase("dlt rest_api", len(wanted))
        rates = load_with_dlt(
            sandbox.endpoints, first, sandbox.as_of, wanted, scratch / "dlt", watcher.step
        )
        dlt_rates = {r.stream: r for r in rates}
    rows = []
    for name in sorted(set(plain) | set(dlt_rates)):
        if name not in hub:
            continue
        mine = hub[name].records_per_s
        row: dict[str, Any] = {
            "stream": name,
            "records": hub[name].pulled,
            "hub_records_per_s": round(mine, 1),
            "plain_records": plain[name].records if name in plain else None,
            "plain_records_per_s": round(plain[name].records_per_second, 1)
            if name in plain
            else None,
        }
        row["hub_to_plain"] = _ratio(mine, row["plain_records_per_s"])
        if name in dlt_rates:
            row["dlt_records"] = dlt_rates[name].records
            row["dlt_records_per_s"] = round(dlt_rates[name].records_per_s, 1)
            row["hub_to_dlt"] = _ratio(mine, dlt_rates[name].records_per_s)
        rows.append(row)
    plain_records = sum(r.records for r in plain.values())
    plain_seconds = sum(r.seconds for r in plain.values())
    dlt_summary: dict[str, Any] = {"records_per_s": None, "ratio": None}
    if dlt_rates:
        compared = [hub[n] for n in dlt_rates]
        hub_rate = _rate(sum(h.pulled for h in compared), sum(h.seconds for h in compared))
        dlt_rate = _rate(
            sum(r.records for r in dlt_rates.values()),
            sum(r.seconds for r in dlt_rates.values()),
        )
        dlt_summary = {"records_per_s": dlt_rate, "ratio": _ratio(hub_rate, dlt_rate)}
    if dlt_note:
        dlt_summary["note"] = dlt_note
    return {
        "streams": rows,
        "dlt": dlt_summary,
        "sandbox_records_per_s": _rate(plain_records, plain_seconds),
    }


def run_bench(
    options: BenchOptions,
    everyone: Mapping[str, Connector],
    watcher: Watcher | None = None,
    on_sandbox: Callable[[RunningSandbox], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark and return its report (see the module's docstring)."""
    from orchestration.bench_trace import measure_traces

    watcher = watcher or QuietWatcher()
    with tempfile.TemporaryDirectory(prefix="kpihub-bench-") as folder:
        scratch = Path(folder)
        url = options.database_url or f"sqlite:///{scratch / 'hub.db'}"
        watcher.phase("starting the sandbox", 1)
        watcher.step(f"{options.employees} employees, {options.history} month(s) of history")
        with sandbox_process(
            scratch / "sandbox",
            seed=options.seed,
            employees=options.employees,
            history_months=options.history,
            change_fraction=options.change_fraction,
        ) as sandbox:
            if on_sandbox is not None:
                on_sandbox(sandbox)
            first = date.fromisoformat(f"{sandbox.closed_periods[0]}-01")
            if options.compare:
                _warm_up(options, sandbox, first, watcher)
            upgrade_stores(url, url)
            stores = Stores.connect(url, url)
            try:
                with pinned_today(sandbox.as_of, str(options.history)):
                    report = _run(options, everyone, stores, sandbox, scratch, watcher)
                    watcher.phase("trace latency", 1)
                    watcher.step(f"{options.trace_samples} in-process, {options.cli_runs} shell")
                    trace = measure_traces(
                        stores,
                        load_templates(get_settings().templates_dir or Path()),
                        seed=options.seed,
                        samples=options.trace_samples,
                        database_url=url,
                        home=scratch / "home",
                        cli_runs=options.cli_runs,
                    )
                    report["trace_ms"] = {
                        "p50": _round(trace.p50_ms),
                        "p95": _round(trace.p95_ms),
                        "cli_p50": _round(trace.cli_p50_ms),
                        "samples": trace.samples,
                        "cli_runs": trace.cli_runs,
                    }
                    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
                    compared: dict[str, Any] = {
                        "streams": [],
                        "dlt": {"records_per_s": None, "ratio": None},
                        "sandbox_records_per_s": None,
                    }
                    if options.compare:
                        compared = _comparisons(
                            options, sandbox, first, report.pop("_landed"), scratch, watcher
                        )
                    report.pop("_landed", None)
            finally:
                stores.dispose()
    report["dlt"] = compared["dlt"]
    report["limits"] = {
        "sandbox_records_per_s": compared["sandbox_records_per_s"],
        "dingtalk_budget_used": report.pop("_dingtalk_used"),
    }
    report["streams"] = compared["streams"]
    return _ordered(report)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _run(
    options: BenchOptions,
    everyone: Mapping[str, Connector],
    stores: Stores,
    sandbox: RunningSandbox,
    scratch: Path,
    watcher: Watcher,
) -> dict[str, Any]:
    run = MonthRun(options, everyone, stores, sandbox, watcher)
    periods = list(sandbox.closed_periods)
    earlier, measured = periods[: -options.months], periods[-options.months :]
    _reset_budgets()
    started = time.perf_counter()
    landed = run.land_all("bench")
    end_to_end = time.perf_counter() - started
    used, budgets = dingtalk_budget_use()
    full_sync = sum(item.seconds for item in landed)
    for item in landed:
        run.stages["pull"].add(item.read_seconds, item.pulled)
        run.stages["land"].add(item.write_seconds, item.pulled)
    for period in earlier:
        run.month(period, f"bench-history-{period}", landed, measured=False)
    started = time.perf_counter()
    normalised = 0.0
    for period in measured:
        normalised = run.month(period, "bench", landed, measured=True)
    end_to_end += time.perf_counter() - started
    watcher.phase("incremental re-sync", 1)
    watcher.step("changing records in the sandbox")
    changed = sandbox.change_records()
    resync = run.land_all("bench-resync")
    resync_seconds = sum(item.seconds for item in resync)
    return {
        "employees": options.employees,
        "seed": options.seed,
        "sources": list(options.sources),
        "periods": measured,
        "months_landed": len(periods),
        "source_records": sum(item.pulled for item in landed),
        "stages": {name: stage.as_dict() for name, stage in run.stages.items()},
        "end_to_end_s": round(end_to_end, 3),
        "incremental_ratio": _ratio(resync_seconds, full_sync),
        "incremental": {
            "changed": changed,
            "records": sum(item.pulled for item in resync),
            "new_versions": sum(item.new_versions for item in resync),
            "seconds": round(resync_seconds, 3),
            "full_sync_s": round(full_sync, 3),
        },
        "normalise_last_month": {
            "months_landed": len(periods),
            "period": measured[-1],
            "seconds": round(normalised, 3),
        },
        "landed": [
            {
                "stream": item.name,
                "records": item.pulled,
                "new_versions": item.new_versions,
                "pull_s": round(item.read_seconds, 3),
                "land_s": round(item.write_seconds, 3),
            }
            for item in landed
        ],
        "dingtalk_budgets": budgets,
        "_dingtalk_used": used,
        "_landed": landed,
    }


KEY_ORDER = (
    "employees", "seed", "sources", "periods", "months_landed", "source_records", "stages",
    "end_to_end_s", "peak_rss_mb", "incremental_ratio", "trace_ms", "dlt", "limits",
)  # fmt: skip


def _ordered(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures first, in a fixed order, then the detail."""
    head = {k: report[k] for k in KEY_ORDER if k in report}
    return {**head, **{k: v for k, v in report.items() if k not in head}}
