"""``kpihub evaluations import FILE``: land one evaluation file in the hub store right away.

HR gets the answer while the file is still open in Excel: either what landed, or every bad row
with its row number and column, and nothing imported (exit code 2). ``--valid-only`` lands the
good rows and quarantines the bad ones. Every job number is checked against the employee
directory the hub has landed, so a row for someone unknown is refused while HR can still fix it.
An imported file is copied into the evaluations folder (``KPIHUB_EVALUATIONS_DIR``) when one is
configured; its hash is remembered, so the scheduled sync of that folder skips it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from orchestration.cli.options import fail, out
from schemas.periods import PERIOD_HINT, is_period

if TYPE_CHECKING:
    from connectors.sdk.files import FileImportError, FileIssue
    from pipelines.landing import LandingStats

FOLDER_ENV = "KPIHUB_EVALUATIONS_DIR"

app = typer.Typer(help="Managers' evaluations from CSV/XLSX template files.", no_args_is_help=True)


def issues_table(issues: Sequence[FileIssue], title: str) -> Table:
    table = Table(title=title)
    for column in ("file", "row", "column", "problem"):
        table.add_column(column, justify="right" if column == "row" else "left")
    for issue in issues:
        row = "" if issue.row is None else str(issue.row)
        # Text, not markup: a cell reading "[/b]" is what the file says, not a style.
        table.add_row(*(Text(c) for c in (issue.file, row, issue.column or "", issue.message)))
    return table


def file_error(exc: FileImportError) -> str | None:
    """One line for a file refused as a whole (unreadable, no header, no rows): a table of one
    row without a row number would only repeat it."""
    if any(issue.row is not None for issue in exc.issues):
        return None
    files = sorted({issue.file for issue in exc.issues})
    if len(files) != 1:
        return None
    problems = "; ".join(issue.message for issue in exc.issues)
    return f"{files[0]}: {problems}; nothing imported from it"


def summary_table(file: str, stats: LandingStats) -> Table:
    table = Table(title=f"Imported {file}")
    for column in ("file", "rows read", "landed", "unchanged", "rejected"):
        table.add_column(column, justify="left" if column == "file" else "right")
    unchanged = stats.pulled - stats.rejected - stats.landed
    table.add_row(
        Text(file), str(stats.pulled), str(stats.landed), str(unchanged), str(stats.rejected)
    )
    return table


def keep_in_folder(path: Path, folder: Path) -> Path | None:
    """Copy the imported file into the evaluations folder, never over a different file."""
    from connectors.sdk.files import sha256_of

    folder.mkdir(parents=True, exist_ok=True)
    sha = sha256_of(path.read_bytes())
    target = folder / path.name
    if target.exists() and sha256_of(target.read_bytes()) != sha:
        target = folder / f"{path.stem}-{sha[:8]}{path.suffix}"
    if target.exists():
        return None
    shutil.copy2(path, target)
    return target


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
    from connectors.sdk.files import FileImportError
    from orchestration.home import prepare_home, upgrade
    from pipelines.evaluation_import import NoDirectory, import_evaluations
    from pipelines.stores import Stores
    from schemas.settings import get_settings

    if not file.exists():
        raise fail(f"no such file: {file}")
    if not file.is_file():
        raise fail(f"{file} is not a file; give one CSV or XLSX file")
    for period in allow_period or []:
        if not is_period(period):
            raise fail(f"--allow-period {period!r} is not {PERIOD_HINT}")
    settings = get_settings()
    prepare_home(settings)
    upgrade(settings)
    stores = Stores.connect(settings.hub_url, settings.hr_url)
    run_id = f"import-{uuid.uuid4().hex}"
    try:
        imported = import_evaluations(
            stores, file, run_id, valid_only=valid_only, allow_periods=allow_period or ()
        )
    except NoDirectory:
        raise fail(
            f"no employee directory has been landed in {settings.home} yet, so no job "
            "number can be checked; sync the sources first (kpihub demo, or sync_sources "
            "in the Dagster UI)"
        ) from None
    except FileImportError as exc:
        whole = file_error(exc)
        if whole is not None:
            raise fail(whole) from None
        out.print(issues_table(exc.issues, f"Problems in {file.name} ({len(exc.issues)})"))
        hint = "" if valid_only else " (fix them, or pass --valid-only to import the valid rows)"
        raise fail(f"{exc.reason}{hint}") from None
    finally:
        stores.dispose()
    stats = imported.stats
    out.print(summary_table(file.name, stats))
    if imported.rejected_rows:
        out.print(
            issues_table(imported.rejected_rows, f"Rejected rows, quarantined ({stats.rejected})")
        )
    folder = os.environ.get(FOLDER_ENV)
    if folder:
        copied = keep_in_folder(file, Path(folder).expanduser())
        if copied is not None:
            out.print(f"copied to {copied}")
