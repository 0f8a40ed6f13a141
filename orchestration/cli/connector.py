"""``kpihub connector``: check a connector against its endpoint with the contract kit, and
scaffold a new one. Neither needs Dagster, so both stay fast."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from orchestration.cli.options import fail, out

if TYPE_CHECKING:
    from connectors.testing.results import CheckResult

app = typer.Typer(help="Source connectors: run the contract kit, scaffold a new one.")


def results_table(title: str, results: list[CheckResult]) -> Table:
    # The contract kit's package brings in the whole kit: imported when a check runs, not for
    # every command's start-up.
    from connectors.testing.results import CONNECTOR_WIDE, Status

    style = {Status.PASS: "green", Status.FAIL: "red", Status.SKIP: "yellow"}
    table = Table(title=title)
    for column in ("stream", "check", "result", "detail"):
        table.add_column(column, overflow="fold")
    for result in results:
        stream = "(connector)" if result.stream == CONNECTOR_WIDE else result.stream
        status = f"[{style[result.status]}]{result.status.value}[/]"
        table.add_row(stream, result.check, status, result.detail)
    return table


@app.command("check")
def check(
    name: Annotated[str, typer.Argument(help="A registered connector, e.g. crm.")],
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Start the connector's sandbox twin instead.")
    ] = False,
    faults: Annotated[
        str | None,
        typer.Option(help="With --sandbox: also land under this fault profile (flaky, hostile)."),
    ] = None,
) -> None:
    """Run the contract kit against the configured endpoint and print a pass/fail table.

    The endpoint and credentials come from the environment or $KPIHUB_HOME/sources.env, as for
    the Dagster resources. Exit code 1 when any check fails."""
    from connectors.registry import discover
    from connectors.testing import run_contract
    from connectors.testing.results import Status
    from schemas.settings import get_settings, load_sources_env

    connectors = discover()
    connector = connectors.get(name)
    if connector is None:
        raise fail(f"no connector named {name!r}; known: {', '.join(connectors)}")
    if faults is not None and not sandbox:
        raise fail("--faults needs --sandbox: a configured endpoint cannot be made to misbehave")
    if faults not in (None, "none", "flaky", "hostile"):
        raise fail(f"--faults {faults!r} is not one of none, flaky, hostile")
    if sandbox:
        where = "sandbox twin" + (f", faults {faults}" if faults else "")
        results = run_contract(name, faults=faults or "none")
    else:
        load_sources_env(get_settings())
        missing = [n for n in connector.env.names() if not os.environ.get(n)]
        if missing:
            hint = "set them, or run kpihub sandbox up, or pass --sandbox"
            raise fail(f"{name} is not configured: {', '.join(missing)} ({hint})")
        where = f"${connector.env.endpoint}"
        results = run_contract(name, os.environ)
    out.print(results_table(f"{connector.title} contract ({where})", results))
    failures = [r for r in results if r.failed]
    counts = {s: sum(r.status is s for r in results) for s in Status}
    out.print(
        f"{counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, {counts[Status.SKIP]} skipped"
    )
    raise typer.Exit(1 if failures else 0)


@app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="Package name of the source, e.g. lms.")],
    root: Annotated[
        Path, typer.Option(help="Where connectors/, sandbox/ and tests/ are (default: here).")
    ] = Path("."),
) -> None:
    """Scaffold connectors/NAME (declaration, example stream, schema, mapping stub), its sandbox
    twin and a test entry that fails until the mapping is written."""
    from connectors.testing.scaffold import ScaffoldError, scaffold

    try:
        written = scaffold(name, root)
    except ScaffoldError as exc:
        raise fail(str(exc)) from None
    for path in written:
        out.print(f"created {path}")
    out.print(
        f"next: kpihub connector check {name} --sandbox --faults hostile, "
        "then docs/adding-a-connector.md from step 2"
    )
