"""``kpihub evaluations import FILE``: land one evaluation file in the hub store right away.

HR gets the answer while the file is still open in Excel: either what landed, or every bad row
with its row number and column, and nothing imported (exit code 2). ``--valid-only`` lands the
good rows and quarantines the bad ones. An imported file is copied into the evaluations folder
(``KPIHUB_EVALUATIONS_DIR``) when one is configured; its hash is remembered, so the scheduled
sync of that folder skips it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from connectors.evaluations.client import EvaluationsSource
from connectors.evaluations.streams import EVALUATIONS
from connectors.sdk.files import FileImportError, FileIssue, sha256_of
from orchestration.cli.options import fail, out
from pipelines.landing import LandingStats, land_stream
from pipelines.stores import Stores
from schemas.settings import get_settings

FOLDER_ENV = "KPIHUB_EVALUATIONS_DIR"

app = typer.Typer(help="Managers' evaluations from CSV/XLSX template files.", no_args_is_help=True)


def issues_table(issues: Sequence[FileIssue], title: str) -> Table:
    table = Table(title=title)
    for column in ("file", "row", "column", "problem"):
        table.add_column(column, justify="right" if column == "row" else "left")
    for issue in issues:
        row = "" if issue.row is None else str(issue.row)
        table.add_row(issue.file, row, issue.column or "", issue.message)
    return table


def summary_table(file: str, stats: LandingStats) -> Table:
    table = Table(title=f"Imported {file}")
    for column in ("file", "rows read", "landed", "unchanged", "rejected"):
        table.add_column(column, justify="left" if column == "file" else "right")
    unchanged = stats.pulled - stats.rejected - stats.landed
    table.add_row(file, str(stats.pulled), str(stats.landed), str(unchanged), str(stats.rejected))
    return table


def keep_in_folder(path: Path, folder: Path) -> Path | None:
    """Copy the imported file into the evaluations folder, never over a different file."""
    folder.mkdir(parents=True, exist_ok=True)
    sha = sha256_of(path.read_bytes())
    target = folder / path.name
    if target.exists() and sha256_of(target.read_bytes()) != sha:
        target = folder / f"{path.stem}-{sha[:8]}{path.suffix}"
    if target.exists():
        return None
    shutil.copy2(path, target)
    return target


def audit_import(
    stores: Stores, run_id: str, file: Path, stats: LandingStats, allowed: list[str]
) -> None:
    """Every import is on record: which file (by content), what landed, who ran it."""
    from sqlalchemy.orm import Session

    from connectors.sdk.files import sha256_of
    from connectors.sdk.timeparse import now_utc
    from schemas.tables import AuditEntry

    with Session(stores.hub) as session, session.begin():
        session.add(
            AuditEntry(
                at=now_utc(),
                run_id=run_id,
                action="evaluations.import",
                subject=file.name,
                detail={
                    "file_sha256": sha256_of(file.read_bytes()),
                    "rows_pulled": stats.pulled,
                    "new_versions": stats.landed,
                    "changed": stats.changed,
                    "rejected": stats.rejected,
                    "allowed_periods": sorted(allowed),
                    "by": os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown",
                },
            )
        )


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="A CSV or XLSX file of the evaluation template.")],
    valid_only: Annotated[
        bool,
        typer.Option("--valid-only", help="Land the valid rows; quarantine the rows with errors."),
    ] = False,
    allow_period: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-period",
            help="Accept this month although it is open or older than the kept history.",
        ),
    ] = None,
) -> None:
    """Import one evaluation file into the hub store now."""
    from orchestration.home import prepare_home, upgrade

    if not file.is_file():
        raise fail(f"no such file: {file}")
    settings = get_settings()
    prepare_home(settings)
    upgrade(settings)
    stores = Stores.connect(settings.hub_url, settings.hr_url)
    source = EvaluationsSource(
        None, files=[file], valid_only=valid_only, allow_periods=allow_period or ()
    )
    run_id = f"import-{uuid.uuid4().hex}"
    try:
        stats = land_stream(stores.hub, source, EVALUATIONS, run_id)
        audit_import(stores, run_id, file, stats, allow_period or [])
    except FileImportError as exc:
        out.print(issues_table(exc.issues, f"Problems in {file.name} ({len(exc.issues)})"))
        hint = "" if valid_only else " (fix them, or pass --valid-only to import the valid rows)"
        raise fail(f"{exc.reason}{hint}") from None
    finally:
        stores.dispose()
    out.print(summary_table(file.name, stats))
    if source.issues:
        out.print(issues_table(source.issues, f"Rejected rows, quarantined ({stats.rejected})"))
    folder = os.environ.get(FOLDER_ENV)
    if folder:
        copied = keep_in_folder(file, Path(folder).expanduser())
        if copied is not None:
            out.print(f"copied to {copied}")
