"""``kpihub sandbox``: start and stop the simulated company's systems, and ask it for the truth."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from schemas.settings import get_settings

app = typer.Typer(help="The simulated source systems for the demo, tests and benchmarks.")
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Seed = Annotated[int, typer.Option(help="Seed of the company; the same seed, the same data.")]
Employees = Annotated[int, typer.Option(help="Number of employees.")]
Faults = Annotated[
    str,
    typer.Option(
        help="Fault profile none | flaky | hostile, with per-system overrides: "
        "'hostile,crm=none' (systems crm, dingtalk, qms, attendance)."
    ),
]
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SYSTEMS = (
    ("CRM", "KPIHUB_CRM"),
    ("DingTalk", "KPIHUB_DINGTALK"),
    ("QMS", "KPIHUB_QMS"),
    ("Attendance terminals", "KPIHUB_ATTENDANCE"),
    ("ERP (ODBC)", "KPIHUB_ERP"),
    ("Evaluations (folder)", "KPIHUB_EVALUATIONS"),
    ("Alert receivers", "KPIHUB_ALERT"),
    ("Portal sign-in", "KPIHUB_PORTAL"),
)


def _state_path() -> Path:
    return get_settings().home / "sandbox.json"


def _running() -> dict[str, Any] | None:
    path = _state_path()
    if not path.exists():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    try:
        os.kill(int(state["pid"]), 0)
    except (ProcessLookupError, PermissionError, ValueError):
        path.unlink(missing_ok=True)
        return None
    return state


def _print_endpoints(endpoints: dict[str, str]) -> None:
    table = Table(title="Sandbox systems")
    for column in ("system", "base URL or ODBC connection string", "credentials"):
        table.add_column(column)
    for title, prefix in SYSTEMS:
        mine = {k: v for k, v in endpoints.items() if k.startswith(prefix + "_")}
        if not mine:
            continue
        ends = ("_URL", "_ODBC", "_DIR", "_SMTP_HOST", "_SMTP_PORT")
        where = [k for k in mine if k.endswith(ends)]
        bare = ("_BASE_URL", "_ODBC", "_DIR")
        location = "\n".join(mine[k] if k.endswith(bare) else f"{k}={mine[k]}" for k in where)
        creds = "\n".join(f"{k}={v}" for k, v in mine.items() if k not in where)
        table.add_row(title, location, creds)
    console.print(table)


def _gone(pid: int) -> bool:
    """Whether the process has exited. When ``up`` ran in this same process (tests, the demo) the
    sandbox is our child and lingers as a zombie until reaped, which signal 0 cannot tell."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _stop(state: dict[str, Any]) -> None:
    from sandbox.process import remove_from_sources_env

    pid = int(state["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _gone(pid):
        time.sleep(0.05)
    _state_path().unlink(missing_ok=True)
    remove_from_sources_env(get_settings().sources_env_file, set(state["endpoints"]))


def _plan(faults: str) -> str:
    from sandbox.faults import FaultPlan

    try:
        return str(FaultPlan.parse(faults))
    except ValueError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from None


@app.command()
def up(seed: Seed = 42, employees: Employees = 200, faults: Faults = "none") -> None:
    """Start the sandbox in the background and write its endpoints to sources.env."""
    faults = _plan(faults)
    state = _running()
    if state is not None:
        if (state["seed"], state["employees"], state.get("faults", "none")) == (
            seed,
            employees,
            faults,
        ):
            console.print(f"The sandbox is already running (pid {state['pid']}).")
            _print_endpoints(state["endpoints"])
            return
        console.print("Restarting the sandbox with the new seed, size or faults.")
        _stop(state)
    home = get_settings().home
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "sandbox.log").open("ab")
    command = [
        sys.executable, "-m", "sandbox.process",
        "--seed", str(seed), "--employees", str(employees), "--home", str(home),
        "--faults", faults,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = _running()
        if state is not None and state["pid"] == process.pid:
            console.print(
                f"Sandbox running (pid {process.pid}, seed {seed}, {employees} employees, "
                f"faults {faults}); endpoints written to {get_settings().sources_env_file}"
            )
            _print_endpoints(state["endpoints"])
            return
        if process.poll() is not None:
            err.print(f"error: the sandbox exited early; see {home / 'sandbox.log'}")
            raise typer.Exit(1)
        time.sleep(0.1)
    process.terminate()
    err.print("error: the sandbox did not become ready within 60 s")
    raise typer.Exit(1)


@app.command()
def down() -> None:
    """Stop the background sandbox."""
    state = _running()
    if state is None:
        console.print("No sandbox is running.")
        return
    _stop(state)
    console.print(f"Sandbox stopped (pid {state['pid']}).")


@app.command()
def truth(
    period: Annotated[str, typer.Option(help="Month, YYYY-MM.")],
    seed: Seed = 42,
    employees: Employees = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """The KPI values the generator intended, per person, for one period."""
    from sandbox.ground_truth import truth as compute
    from sandbox.model import generate_world

    if not PERIOD.match(period):
        err.print(f"error: period {period!r} is not a month in the form YYYY-MM")
        raise typer.Exit(2)
    rows = compute(generate_world(seed=seed, employees=employees), period)
    if as_json:
        data = [
            {"job_number": r.job_number, "kpi_code": r.kpi_code, "period": r.period,
             "value": str(r.value)}
            for r in rows
        ]  # fmt: skip
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Ground truth {period} ({len(rows)})")
    for column in ("job number", "KPI", "value"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for row in rows:
        table.add_row(row.job_number, row.kpi_code, str(row.value))
    console.print(table)


@app.command()
def anomalies(
    seed: Seed = 42,
    employees: Employees = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """The anomalies planted in the company: what anomaly detection is scored against."""
    from sandbox.model import generate_world

    planted = [a.as_dict() for a in generate_world(seed=seed, employees=employees).anomalies]
    if as_json:
        print(json.dumps(planted, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Planted anomalies (seed {seed}, {employees} employees)")
    for column in ("kind", "source", "job number", "stream", "period", "KPI", "detail"):
        table.add_column(column)
    for row in planted:
        table.add_row(
            row["kind"], row["source"], row["job_number"] or "", row["stream"] or "",
            row["period"], row["kpi_code"] or "", row["detail"],
        )  # fmt: skip
    console.print(table)


@app.command()
def measure(
    seed: Seed = 42,
    employees: Employees = 10_000,
    period: Annotated[
        str | None, typer.Option(help="Month to pull, YYYY-MM; the last closed one by default.")
    ] = None,
    systems: Annotated[
        str, typer.Option(help="Comma-separated HTTP systems to pull.")
    ] = "crm,dingtalk,qms,attendance",
) -> None:
    """Time generating and starting a sandbox, then pull one month of each HTTP system with a
    plain client and print pages/s and records/s."""
    from sandbox.measure import PULLS, pull_month
    from sandbox.model import generate_world
    from sandbox.serving import SandboxServer

    chosen = tuple(s.strip() for s in systems.split(",") if s.strip())
    unknown = [s for s in chosen if s not in PULLS]
    if unknown or not chosen:
        err.print(f"error: --systems takes some of {', '.join(PULLS)}, not {systems!r}")
        raise typer.Exit(2)
    if period is not None and not PERIOD.match(period):
        err.print(f"error: period {period!r} is not a month in the form YYYY-MM")
        raise typer.Exit(2)
    started = time.perf_counter()
    world = generate_world(seed=seed, employees=employees)
    generated = time.perf_counter()
    period = period or world.closed_periods[-1]
    if period not in world.periods:
        kept = ", ".join(world.periods)
        err.print(f"error: period {period} is not one the sandbox keeps ({kept})")
        raise typer.Exit(2)
    with SandboxServer(world, systems=(*chosen, "erp")) as server:
        ready = time.perf_counter()
        console.print(
            f"{employees} employees, seed {seed}: generated in {generated - started:.1f} s, "
            f"serving (ERP file written) in {ready - generated:.1f} s more; pulling {period}"
        )
        rates = pull_month(server.endpoints, period, chosen)
    table = Table(title=f"One month ({period}) pulled with a plain client")
    for column in ("system", "pages", "records", "seconds", "pages/s", "records/s", "throttled"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for rate in rates:
        table.add_row(
            rate.system, str(rate.pages), str(rate.records), f"{rate.seconds:.1f}",
            f"{rate.pages_per_second:.0f}", f"{rate.records_per_second:.0f}", str(rate.throttled),
        )  # fmt: skip
    console.print(table)
