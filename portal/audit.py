"""What the portal writes to the hub's audit log: who signed in, and who viewed which score
version when, so HR can answer "who has seen my score"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.sdk.timeparse import now_utc
from pipelines.publishing import audit_subject
from portal.scope import Viewer
from schemas.tables import AuditEntry

PORTAL = "portal"
SIGN_IN = "portal.sign_in"
VIEW = "score.view"


def record(hub: Engine, viewer: Viewer, action: str, subject: str, **detail: Any) -> None:
    with Session(hub) as session, session.begin():
        session.add(
            AuditEntry(
                at=now_utc(),
                run_id=PORTAL,
                action=action,
                subject=subject,
                detail={"userid": viewer.userid, "job_number": viewer.job_number, **detail},
            )
        )


def score_viewed(
    hub: Engine, viewer: Viewer, job_number: str, period: str, version: int, form: str
) -> None:
    record(hub, viewer, VIEW, audit_subject(job_number, period, version), format=form)
