"""One evaluation file imported into the hub store right away: what ``kpihub evaluations import``
and the evaluations inbox both do.

Every job number is checked against the employee directory the hub has landed, so a row for
someone unknown is refused while HR can still fix the file. A file with problems raises
:class:`~connectors.sdk.files.FileImportError` listing each one and lands nothing (unless
``valid_only``: the good rows land, the bad ones are quarantined). Every import is in the audit
log: which file by content, what landed, who ran it.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from connectors.evaluations.client import EvaluationsSource
from connectors.evaluations.streams import EVALUATIONS
from connectors.sdk.files import FileIssue, sha256_of
from connectors.sdk.timeparse import now_utc
from pipelines.landing import LandingStats, land_stream
from pipelines.stores import Stores
from schemas.tables import AuditEntry


class NoDirectory(RuntimeError):
    """No employee directory has been landed, so no job number can be checked."""


@dataclass(frozen=True)
class Imported:
    stats: LandingStats
    rejected_rows: list[FileIssue]
    """Rows quarantined under ``valid_only``."""


def who_ran() -> str:
    """The account that ran the import, as the operating system names it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        return "unknown"


def directory_job_numbers(stores: Stores) -> frozenset[str]:
    """The job numbers of the employee directory as landed (DingTalk's and the ERP's)."""
    from connectors.registry import discover
    from pipelines.identity import IdentityResolver

    with Session(stores.hub) as session:
        return frozenset(IdentityResolver.load(session, discover()).employees)


def audit_import(
    stores: Stores,
    run_id: str,
    file: Path,
    stats: LandingStats,
    allowed: Sequence[str],
    by: str,
) -> None:
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
                    "by": by,
                },
            )
        )


def import_evaluations(
    stores: Stores,
    file: Path,
    run_id: str,
    *,
    valid_only: bool = False,
    allow_periods: Sequence[str] = (),
    by: str | None = None,
) -> Imported:
    """Land one file's evaluations now; raises FileImportError (nothing landed) or
    NoDirectory."""
    employees = directory_job_numbers(stores)
    if not employees:
        raise NoDirectory("no employee directory has been landed yet")
    source = EvaluationsSource(
        None,
        files=[file],
        valid_only=valid_only,
        allow_periods=allow_periods,
        employees=employees,
    )
    stats = land_stream(stores.hub, source, EVALUATIONS, run_id)
    audit_import(stores, run_id, file, stats, allow_periods, by or who_ran())
    return Imported(stats, list(source.issues))
