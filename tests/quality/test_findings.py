"""Raising a finding is idempotent, the data resolves and reopens it, and every status change
lands in the audit log with who, the old and new status and the note."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipelines.stores import Stores
from quality.findings import (
    FindingError,
    Observation,
    change_status,
    clear_finding,
    history,
    raise_finding,
)
from schemas.tables import AuditEntry, Finding

PERIOD = "2026-10"
VOLUME = Observation(
    "crm.orders_volume", "anomaly", "ERROR", "crm", PERIOD, 412, {"baseline": 930}, stream="orders"
)


def raised(stores: Stores, seen: Observation = VOLUME) -> int:
    with Session(stores.hub) as session, session.begin():
        return raise_finding(session, seen).id


def one(stores: Stores, finding_id: int) -> Finding:
    with Session(stores.hub, expire_on_commit=False) as session:
        return session.get_one(Finding, finding_id)


def audit(stores: Stores) -> list[tuple[str, str, str | None, str, str | None]]:
    with Session(stores.hub) as session:
        return [
            (
                e.subject,
                e.detail["by"],
                e.detail["old_status"],
                e.detail["new_status"],
                e.detail["note"],
            )
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_raising_the_same_finding_again_updates_the_one_row(stores: Stores) -> None:
    first = raised(stores)
    before = one(stores, first)
    assert raised(stores) == first
    assert one(stores, first).updated_at == before.updated_at
    assert raised(stores, replace(VOLUME, count=380, detail={"baseline": 940})) == first
    row = one(stores, first)
    assert (row.kind, row.severity, row.status, row.subject, row.source, row.stream) == (
        "anomaly",
        "ERROR",
        "open",
        "crm/orders",
        "crm",
        "orders",
    )
    assert (row.job_number, row.kpi_code, row.count, row.detail) == (
        None,
        None,
        380,
        {"baseline": 940},
    )
    assert row.updated_at > before.updated_at
    with Session(stores.hub) as session:
        assert session.scalar(select(func.count()).select_from(Finding)) == 1
    assert audit(stores) == []


def test_a_person_finding_is_about_their_job_number(stores: Stores) -> None:
    seen = Observation(
        "qms.yield_robust_z",
        "anomaly",
        "ERROR",
        "qms",
        PERIOD,
        1,
        job_number="E00042",
        kpi_code="semi_finished_yield_rate",
    )
    row = one(stores, raised(stores, seen))
    assert (row.subject, row.job_number, row.kpi_code) == (
        "E00042",
        "E00042",
        "semi_finished_yield_rate",
    )


def test_every_status_change_is_audited_with_who_and_why(stores: Stores) -> None:
    finding_id = raised(stores)
    with Session(stores.hub) as session, session.begin():
        change_status(session, finding_id, "acknowledged", by="carol", note=None)
    with Session(stores.hub) as session, session.begin():
        change_status(session, finding_id, "dismissed", by="alice", note="  a holiday week  ")
    row = one(stores, finding_id)
    assert (row.status, row.note, row.changed_by) == ("dismissed", "a holiday week", "alice")
    assert row.changed_at == row.updated_at
    subject = f"finding/{finding_id}"
    assert audit(stores) == [
        (subject, "carol", "open", "acknowledged", None),
        (subject, "alice", "acknowledged", "dismissed", "a holiday week"),
    ]
    with Session(stores.hub) as session:
        assert [e.detail["new_status"] for e in history(session, finding_id)] == [
            "acknowledged",
            "dismissed",
        ]
    # HR's decision stands when the check raises the same finding again.
    raised(stores)
    assert one(stores, finding_id).status == "dismissed"


def test_the_data_resolves_a_finding_and_reopens_it(stores: Stores) -> None:
    finding_id = raised(stores)
    with Session(stores.hub) as session, session.begin():
        clear_finding(session, session.get_one(Finding, finding_id), {"baseline": 930})
    row = one(stores, finding_id)
    assert (row.status, row.count, row.changed_by) == ("resolved", 0, "kpihub")
    raised(stores)
    assert (one(stores, finding_id).status, one(stores, finding_id).count) == ("open", 412)
    subject = f"finding/{finding_id}"
    assert audit(stores) == [
        (subject, "kpihub", "open", "resolved", "no longer shown by the data"),
        (subject, "kpihub", "resolved", "open", "shown again by the data"),
    ]


@pytest.mark.parametrize(
    ("finding_id", "status", "note", "message"),
    [
        (999, "dismissed", "x", "finding 999 does not exist"),
        (
            None,
            "closed",
            "x",
            "status must be one of acknowledged, dismissed, confirmed, not 'closed'",
        ),
        (None, "open", "x", "status must be one of acknowledged, dismissed, confirmed, not 'open'"),
        (None, "dismissed", "   ", "dismissing finding {id} needs --note saying why"),
        (None, "dismissed", None, "dismissing finding {id} needs --note saying why"),
    ],
)
def test_a_bad_review_request_changes_nothing(
    stores: Stores, finding_id: int | None, status: str, note: str | None, message: str
) -> None:
    real = raised(stores)
    target = real if finding_id is None else finding_id
    with Session(stores.hub) as session, session.begin(), pytest.raises(FindingError) as caught:
        change_status(session, target, status, by="alice", note=note)
    assert str(caught.value) == message.format(id=real)
    assert one(stores, real).status == "open"
    assert audit(stores) == []


def test_a_finding_already_in_that_status_is_refused(stores: Stores) -> None:
    finding_id = raised(stores)
    with Session(stores.hub) as session, session.begin():
        change_status(session, finding_id, "confirmed", by="bob", note=None)
    with Session(stores.hub) as session, session.begin(), pytest.raises(FindingError) as caught:
        change_status(session, finding_id, "confirmed", by="bob", note=None)
    assert str(caught.value) == f"finding {finding_id} is already confirmed"
    assert len(audit(stores)) == 1
