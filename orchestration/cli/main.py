"""The ``kpihub`` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestration.cli import (
    changes,
    connector,
    evaluations,
    findings,
    inspect,
    review,
    score,
    status,
    sync,
)
from orchestration.cli.errors import OneLineErrors, check_environment, debug_option
from orchestration.cli.lazy import LazyGroup
from orchestration.cli.options import fail, out

SANDBOX_HELP = "The simulated source systems for the demo, tests and benchmarks."
"""``kpihub sandbox``'s line in the command list, shown without importing the sandbox."""


class KpiHub(OneLineErrors):
    """The ``kpihub`` group: the sandbox's commands are mounted lazily, so that no other command
    imports the sandbox; a production install may leave the sandbox out, and then they are not
    listed at all."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if find_spec("sandbox") is not None:
            self.add_command(LazyGroup("sandbox", "sandbox.cli:app", help=SANDBOX_HELP))


app = typer.Typer(
    help="KPI Hub: pull HR performance data, score it and trace every score to its source.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=KpiHub,
)


@app.callback()
def main(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show the traceback of an error instead of its one line."),
    ] = False,
) -> None:
    # Every command starts by checking the settings it would otherwise trip over halfway.
    debug_option(ctx, debug)
    check_environment()


db_app = typer.Typer(help="The hub and HR stores.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(connector.app, name="connector")
app.add_typer(evaluations.app, name="evaluations")
app.add_typer(findings.app, name="findings")
app.add_typer(review.app, name="review")
app.add_typer(review.appeals_app, name="appeals")
app.add_typer(changes.targets_app, name="targets")
app.add_typer(changes.adjustments_app, name="adjustments")

console = out

app.command("scores")(inspect.scores)
app.command("facts")(inspect.facts)
app.command("trace")(inspect.trace_command)
app.command("talent-pool")(inspect.talent_pool_command)
app.command("audit")(review.audit_command)
app.command("score")(score.score_command)
app.command("sync")(sync.sync_command)
app.command("status")(status.status_command)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations of the hub and HR stores."""
    from orchestration.home import prepare_home, upgrade
    from schemas.settings import get_settings

    settings = get_settings()
    prepare_home(settings)
    upgrade(settings)
    console.print("hub and HR stores are at the latest schema")


@db_app.command("status")
def db_status() -> None:
    """Show the migration revision each store is at."""
    from schemas.migrations.apply import current_revisions
    from schemas.settings import get_settings

    settings = get_settings()
    for store, revision in current_revisions(settings.hub_url, settings.hr_url).items():
        console.print(f"{store}: {revision or 'not initialised (run kpihub db upgrade)'}")


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the sandbox company.")] = 42,
    employees: Annotated[int, typer.Option(help="Employees in the sandbox company.")] = 200,
    periods: Annotated[int, typer.Option(help="Closed months to score.")] = 3,
    faults: Annotated[
        str,
        typer.Option(
            help="Sandbox fault profile none | flaky | hostile, with per-system overrides: "
            "'hostile,crm=none'."
        ),
    ] = "none",
) -> None:
    """Run the whole flow against the sandbox: pull, normalise, score, publish, trace."""
    from orchestration.demo import run_demo

    if not 1 <= periods <= 6:
        raise fail("--periods must be between 1 and 6 (the sandbox keeps six closed months)")
    if employees < 1:
        raise fail("--employees must be at least 1")
    from sandbox.faults import FaultPlan

    try:
        FaultPlan.parse(faults)
    except ValueError as exc:
        raise fail(f"--faults: {exc}") from None
    raise typer.Exit(
        run_demo(console, seed=seed, employees=employees, periods=periods, faults=faults)
    )


def _mount_bench() -> None:
    # Its own module, imported when the command is mounted; it imports its work lazily.
    from orchestration.cli.bench import bench_command

    app.command("bench")(bench_command)


_mount_bench()


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 3000,
) -> None:
    """Serve the Dagster UI on the hub's persistent instance."""
    from orchestration.home import prepare_home
    from schemas.settings import get_settings

    settings = get_settings()
    prepare_home(settings)
    workspace = Path(__file__).resolve().parents[2] / "workspace.yaml"
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(workspace), "-h", host, "-p", str(port)]
    console.print(f"Dagster UI on http://{host}:{port} (DAGSTER_HOME={settings.dagster_home})")
    raise typer.Exit(subprocess.call(command, env=os.environ.copy(), cwd=workspace.parent))


@app.command("portal")
def portal_command(
    host: Annotated[str, typer.Option(help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8080,
    ssl_certfile: Annotated[
        str | None, typer.Option(help="TLS certificate: serve over HTTPS (cookies become Secure).")
    ] = None,
    ssl_keyfile: Annotated[str | None, typer.Option(help="The TLS certificate's key.")] = None,
) -> None:
    """Serve the score portal: sign in with DingTalk, list the scores of your scope and trace
    any of them to its source records."""
    from orchestration.cli.inspect import open_stores
    from portal.errors import PortalConfigError
    from portal.server import serve
    from schemas.settings import Settings

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise fail("--ssl-certfile and --ssl-keyfile go together")
    stores = open_stores()  # also reads the home's sources.env
    settings = Settings()
    console.print(f"KPI Hub portal on http{'s' if ssl_certfile else ''}://{host}:{port}/login")
    try:
        serve(settings, stores, host, port, ssl_certfile, ssl_keyfile)
    except PortalConfigError as exc:
        raise fail(str(exc)) from None
