"""Every published score version has its audit entry with the run that published it; a publish
that writes nothing writes no entry, and an entry lost between two stores' commits comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipelines.publishing import AUDIT_ACTION
from pipelines.stores import Stores
from schemas.migrations.apply import upgrade_stores
from schemas.tables import AuditEntry, Score
from schemas.templates import ScoringTemplate, load_template
from tests.pipelines.test_score_publishing import CONTRACT_ONLY, run, seller, store_facts

TOTALS = ["90", "80", "70", "65", "60", "55", "50", "45", "40", "35"]
FIRST = {f"E{n:05d}": t for n, t in enumerate(TOTALS, start=1)}
PEOPLE = [seller(n) for n in range(1, 12)]


def contract(tmp_path: Path) -> list[ScoringTemplate]:
    (tmp_path / "contract.yaml").write_text(CONTRACT_ONLY, encoding="utf-8")
    return [load_template(tmp_path / "contract.yaml")]


def entries(stores: Stores) -> list[AuditEntry]:
    with Session(stores.hub) as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION).order_by(AuditEntry.id)
            )
        )


def score_ids(stores: Stores, job_number: str) -> list[int]:
    with Session(stores.hr) as session:
        return list(
            session.scalars(
                select(Score.id).where(Score.job_number == job_number).order_by(Score.version)
            )
        )


def publish_and_release(stores: Stores, tmp_path: Path) -> None:
    """run-1: ten final, E00011 held; run-2: the same inputs; run-3: E00011's fact arrives and
    three versions are published (E00002 and E00009 regraded, E00011 released)."""
    templates = contract(tmp_path)
    store_facts(stores, "crm", "contract_amount", FIRST)
    assert run(stores, templates, PEOPLE, "run-1").audited == 11
    assert run(stores, templates, PEOPLE, "run-2").audited == 0
    store_facts(stores, "crm", "contract_amount", {**FIRST, "E00011": "20"})
    assert run(stores, templates, PEOPLE, "run-3").audited == 3


def test_each_published_version_is_audited_with_its_run(stores: Stores, tmp_path: Path) -> None:
    publish_and_release(stores, tmp_path)
    audit = entries(stores)
    assert [(e.run_id, e.subject) for e in audit[11:]] == [
        ("run-3", "E00002/2026-10/v2"),
        ("run-3", "E00009/2026-10/v2"),
        ("run-3", "E00011/2026-10/v2"),
    ]
    assert [e.subject for e in audit[:11]] == [f"E{n:05d}/2026-10/v1" for n in range(1, 12)]
    assert {e.run_id for e in audit[:11]} == {"run-1"}
    v1, v2 = score_ids(stores, "E00002")
    assert audit[11].detail == {
        "score_id": v2,
        "version": 2,
        "supersedes_score_id": v1,
        "template": "contract",
        "template_version": "1",
        "total": "80",
        "grade": "A 优秀",
        "status": "final",
        "hold_reasons": [],
        "reason": "grade B 合格 -> A 优秀: the contract cohort of 2026-10 was graded again "
        "(11 final scores, rank 2)",
    }
    held = audit[10].detail
    assert (held["status"], held["grade"], held["hold_reasons"], held["supersedes_score_id"]) == (
        "held",
        None,
        ["contract_amount: no fact for 2026-10"],
        None,
    )


@pytest.fixture
def separate_stores(tmp_path: Path) -> Iterator[Stores]:
    """The hub and HR stores in two databases, so the audit log is not in the scores' database."""
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hr_url = f"sqlite:///{tmp_path / 'hr.db'}"
    upgrade_stores(hub_url, hr_url)
    stores = Stores.connect(hub_url, hr_url)
    yield stores
    stores.dispose()


def test_entries_lost_between_two_stores_commits_are_written_by_the_next_publish(
    separate_stores: Stores, tmp_path: Path
) -> None:
    publish_and_release(separate_stores, tmp_path)
    assert len(entries(separate_stores)) == 14
    with Session(separate_stores.hub) as session, session.begin():
        session.execute(delete(AuditEntry).where(AuditEntry.run_id == "run-3"))
    again = run(separate_stores, contract(tmp_path), PEOPLE, "run-4")
    assert (again.published, again.audited) == (0, 3)
    assert [(e.run_id, e.subject) for e in entries(separate_stores)[11:]] == [
        ("run-3", "E00002/2026-10/v2"),
        ("run-3", "E00009/2026-10/v2"),
        ("run-3", "E00011/2026-10/v2"),
    ]
