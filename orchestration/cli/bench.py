"""``kpihub bench``: take a sandbox company's month from its sources to published scores with the
hub's own code and print what each stage took, against the sources' own limit and dlt.

The progress display goes to stderr, so ``--json`` leaves exactly one JSON object on stdout.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from orchestration.cli.options import err, fail, out

if TYPE_CHECKING:
    from rich.progress import Progress, Task, TaskID

DEFAULT_SOURCES = ("attendance", "crm", "erp", "evaluations", "qms")
"""Every source but DingTalk's own streams: its budget of 20 calls a second per API makes their
first pull take minutes at a few thousand people. Its directory and leave are landed anyway, for
identity and excused lateness."""


class ProgressWatcher:
    """Shows the benchmark's phases as rich progress bars on stderr."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def phase(self, name: str, total: int) -> None:
        self._finish()
        self.task = self.progress.add_task(name, total=max(total, 1), detail="")

    def step(self, detail: str) -> None:
        task = self._current()
        if task is None:
            return
        if task.fields.get("detail"):
            self.progress.advance(task.id)
        self.progress.update(task.id, detail=detail)

    def close(self) -> None:
        self._finish()

    def _current(self) -> Task | None:
        return next((t for t in self.progress.tasks if t.id == self.task), None)

    def _finish(self) -> None:
        task = self._current()
        if task is not None:
            self.progress.update(task.id, completed=task.total, detail="")


def _sources(value: str | None, known: list[str]) -> tuple[str, ...]:
    chosen = [s.strip() for s in (value or ",".join(DEFAULT_SOURCES)).split(",") if s.strip()]
    unknown = [s for s in chosen if s not in known]
    if unknown or not chosen:
        raise fail(f"--sources takes some of {', '.join(known)}, not {value!r}")
    return tuple(s for s in known if s in chosen)


def _print(report: dict[str, Any]) -> None:
    from rich.table import Table

    title = (
        f"kpihub bench: {report['employees']} employees, {', '.join(report['periods'])}, "
        f"{report['months_landed']} month(s) landed"
    )
    stages = Table(title=title)
    for column in ("stage", "seconds", "records", "records/s"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for name, stage in report["stages"].items():
        stages.add_row(
            name, f"{stage['seconds']:.2f}", str(stage["records"]), f"{stage['records_per_s']:.0f}"
        )
    out.print(stages)
    streams = Table(title="Per stream: the hub, a plain client (the limit) and dlt, records/s")
    for column in ("stream", "records", "hub", "plain", "hub/plain", "dlt", "hub/dlt"):
        streams.add_column(column, justify="left" if column == "stream" else "right")
    for row in report["streams"]:
        streams.add_row(
            row["stream"], str(row["records"]), _num(row["hub_records_per_s"]),
            _num(row["plain_records_per_s"]), _num(row["hub_to_plain"], 2),
            _num(row.get("dlt_records_per_s")), _num(row.get("hub_to_dlt"), 2),
        )  # fmt: skip
    if report["streams"]:
        out.print(streams)
    trace, limits, dlt = report["trace_ms"], report["limits"], report["dlt"]
    lines = [
        f"source records {report['source_records']}, end to end {report['end_to_end_s']:.1f} s, "
        f"peak RSS {report['peak_rss_mb']:.0f} MB",
        f"incremental re-sync after a {_changed(report)}-record change: "
        f"{report['incremental']['seconds']:.1f} s, ratio {_num(report['incremental_ratio'], 3)}",
        f"normalising {report['normalise_last_month']['period']} with "
        f"{report['months_landed']} month(s) landed: "
        f"{report['normalise_last_month']['seconds']:.2f} s",
        f"trace p50 {_num(trace['p50'], 2)} ms, p95 {_num(trace['p95'], 2)} ms in-process; "
        f"kpihub trace p50 {_num(trace['cli_p50'], 0)} ms from the shell",
        f"sandbox (plain client) {_num(limits['sandbox_records_per_s'])} records/s; "
        f"DingTalk budget used {_num(limits['dingtalk_budget_used'], 2)}",
        dlt.get("note")
        or f"dlt {_num(dlt['records_per_s'])} records/s, hub/dlt {_num(dlt['ratio'], 2)}",
    ]
    for line in lines:
        out.print(line, markup=False, highlight=False)


def _changed(report: dict[str, Any]) -> int:
    return sum(report["incremental"]["changed"].values())


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def bench_command(
    seed: Annotated[int, typer.Option(help="Seed of the sandbox company.")] = 42,
    employees: Annotated[int, typer.Option(help="Employees in the sandbox company.")] = 200,
    months: Annotated[
        int, typer.Option(help="Closed months taken end to end and timed (the last ones).")
    ] = 1,
    history: Annotated[
        int | None,
        typer.Option(
            help="Closed months landed (and scored, for the trace); --months by default, "
            "at most 12."
        ),
    ] = None,
    sources: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated sources to land, with the identity streams they need; "
            f"by default {','.join(DEFAULT_SOURCES)}."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Store to bench on; a fresh SQLite file by default."),
    ] = None,
    trace_samples: Annotated[
        int, typer.Option("--trace-samples", help="Random scores traced in-process.")
    ] = 1000,
    shell_traces: Annotated[
        int, typer.Option("--shell-traces", help="Runs of `kpihub trace` from the shell.")
    ] = 5,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare/--no-compare",
            help="Also pull with a plain client and load with dlt (the yardsticks).",
        ),
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON object.")
    ] = False,
) -> None:
    """Run a sandbox company's month end to end (pull, land, normalise, check, score, publish)
    with the sandbox in its own process, then an incremental re-sync after 1% of the records
    change, then trace latency; print each stage's seconds, records and records/s, the peak
    RSS, and the same endpoints pulled by a plain client and by dlt (the optional `bench` extra)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from connectors.registry import discover
    from orchestration.bench import BenchOptions, run_bench

    if employees < 1:
        raise fail("--employees must be at least 1")
    history = history or months
    if not 1 <= months <= 12 or not months <= history <= 12:
        raise fail("--months and --history take 1 to 12 months, --history at least --months")
    everyone = discover()
    chosen = _sources(sources, list(everyone))
    options = BenchOptions(
        seed=seed,
        employees=employees,
        months=months,
        history=history,
        sources=chosen,
        database_url=database_url,
        trace_samples=max(trace_samples, 1),
        cli_runs=max(shell_traces, 0),
        compare=compare,
    )
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        watcher = ProgressWatcher(progress)
        report = run_bench(options, everyone, watcher)
        watcher.close()
    if as_json:
        if report["dlt"].get("note"):
            err.print(report["dlt"]["note"], markup=False, highlight=False)
        print(json.dumps(report, ensure_ascii=False))
        return
    _print(report)
