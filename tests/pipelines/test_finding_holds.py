"""ERROR findings hold exactly the scores whose facts they touch, and HR's decision releases them
on the next run as new score versions that name the finding and the decision."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.lineage import money_text
from pipelines.stores import Stores
from quality.findings import Observation, change_status, raise_finding
from schemas.tables import AuditEntry, Score
from schemas.templates import ScoringTemplate, load_template
from tests.pipelines.test_score_publishing import PERIOD, current, run, seller, store_facts

PUNCTUAL = """\
code: contract
version: "1"
name: Contract amount, late arrivals
assign: [{department: 销售中心}]
components:
  - {kpi: contract_amount, weight: 1, target: 100}
adjustments:
  - {rule: late_arrivals, kind: multiply, kpi: late_count, more_than: 3, factor: 0.9,
     when_missing: skip}
grading:
  distribution:
    min_cohort: 10
    top: {grade: A 优秀, share: 0.1, rounding: ceil}
    bottom: {grade: C 待改进, share: 0.2, rounding: floor}
    middle: B 合格
  bands:
    - {grade: A 优秀, min_total: 90}
    - {grade: B 合格, min_total: 60}
    - {grade: C 待改进, min_total: 0}
talent_pool: {grades: [A 优秀]}
"""
PEOPLE = [seller(n) for n in range(1, 6)]
ANOMALY = "crm.contract_amount_robust_z"
PUNCHES = "dingtalk.punch_completeness"
COHORT = f"the contract cohort of {PERIOD} was graded again"
WHY = "contract_amount 80 is 6.1 MADs above the own baseline 20"


def setup(stores: Stores, tmp_path: Path) -> tuple[list[ScoringTemplate], int, int]:
    """Five sellers scored on crm's contract amount; E00001 and E00002 also have dingtalk late
    counts (E00002 five: x 0.9). An ERROR anomaly on E00003's contract amount and an ERROR on
    dingtalk's attendance stream are open; a WARN on E00004, an ERROR on a KPI nobody's score
    reads and an ERROR of another month are too, and hold nobody."""
    (tmp_path / "contract.yaml").write_text(PUNCTUAL, encoding="utf-8")
    templates = [load_template(tmp_path / "contract.yaml")]
    amounts = {"E00001": "95", "E00002": "92", "E00003": "80", "E00004": "70", "E00005": "50"}
    store_facts(stores, "crm", "contract_amount", amounts)
    store_facts(stores, "dingtalk", "late_count", {"E00001": "1", "E00002": "5"})
    with Session(stores.hub) as session, session.begin():
        anomaly = raise_finding(
            session,
            Observation(
                ANOMALY, "anomaly", "ERROR", "crm", PERIOD, 1, {"message": WHY},
                job_number="E00003", kpi_code="contract_amount",
            ),
        ).id  # fmt: skip
        punches = raise_finding(
            session,
            Observation(
                PUNCHES, "expectation", "ERROR", "dingtalk", PERIOD, 3, stream="attendance"
            ),
        ).id
        for check, severity, job, kpi, period in (
            (ANOMALY, "WARN", "E00004", "contract_amount", PERIOD),
            ("qms.yield_robust_z", "ERROR", "E00005", "semi_finished_yield_rate", PERIOD),
            (ANOMALY, "ERROR", "E00004", "contract_amount", "2026-09"),
        ):
            raise_finding(
                session,
                Observation(
                    check, "anomaly", severity, "crm", period, 1, job_number=job, kpi_code=kpi
                ),
            )
    return templates, anomaly, punches


def rows(
    stores: Stores,
) -> list[tuple[str, int, str, str | None, str | None, list[str], str | None]]:
    return [
        (j, s.version, s.status, s.grade, money_text(s.total), list(s.hold_reasons), s.reason)
        for j, s in sorted(current(stores).items())
    ]


def decide(stores: Stores, finding_id: int, status: str, by: str, note: str) -> None:
    with Session(stores.hub) as session, session.begin():
        change_status(session, finding_id, status, by=by, note=note)


def test_an_error_finding_holds_exactly_the_scores_it_touches_until_hr_decides(
    stores: Stores, tmp_path: Path
) -> None:
    templates, anomaly, punches = setup(stores, tmp_path)
    held_anomaly = f"finding {anomaly} (ERROR {ANOMALY}): {WHY}"
    held_punches = f"finding {punches} (ERROR {PUNCHES}): 3 flagged in dingtalk/attendance"

    first = run(stores, templates, PEOPLE, "run-1")
    assert (first.published, first.held) == (5, 3)
    assert rows(stores) == [
        ("E00001", 1, "held", None, "95.00", [held_punches], None),
        ("E00002", 1, "held", None, "82.80", [held_punches], None),
        ("E00003", 1, "held", None, "80.00", [held_anomaly], None),
        ("E00004", 1, "final", "B 合格", "70.00", [], None),
        ("E00005", 1, "final", "C 待改进", "50.00", [], None),
    ]

    # Acknowledged is still in doubt: nothing is released, nothing republished.
    decide(stores, punches, "acknowledged", "carol", "looking into terminal 3")
    assert run(stores, templates, PEOPLE, "run-2").published == 0

    decide(stores, anomaly, "dismissed", "alice", "order confirmed by the customer")
    released = run(stores, templates, PEOPLE, "run-3")
    assert (released.published, released.superseded, released.held) == (1, 1, 2)
    assert rows(stores)[2] == (
        "E00003",
        2,
        "final",
        "B 合格",
        "80.00",
        [],
        f"released: no longer held ({held_anomaly}); "
        f"finding {anomaly} dismissed by alice: order confirmed by the customer; "
        f"grade none -> B 合格: {COHORT} (3 final scores, rank 1)",
    )

    decide(stores, punches, "confirmed", "bob", "terminal 3 lost punches; re-imported")
    assert run(stores, templates, PEOPLE, "run-4").published == 2
    release = (
        f"released: no longer held ({held_punches}); "
        f"finding {punches} confirmed by bob: terminal 3 lost punches; re-imported; grade none"
    )
    assert [r for r in rows(stores) if r[0] in ("E00001", "E00002")] == [
        (
            "E00001",
            2,
            "final",
            "A 优秀",
            "95.00",
            [],
            f"{release} -> A 优秀: {COHORT} (5 final scores, rank 1)",
        ),
        (
            "E00002",
            2,
            "final",
            "B 合格",
            "82.80",
            [],
            f"{release} -> B 合格: {COHORT} (5 final scores, rank 2)",
        ),
    ]
    with Session(stores.hr) as session:
        versions = session.execute(
            select(Score.job_number, Score.version, Score.status, Score.is_current).order_by(
                Score.job_number, Score.version
            )
        ).all()
    assert [tuple(v) for v in versions] == [
        ("E00001", 1, "held", False),
        ("E00001", 2, "final", True),
        ("E00002", 1, "held", False),
        ("E00002", 2, "final", True),
        ("E00003", 1, "held", False),
        ("E00003", 2, "final", True),
        ("E00004", 1, "final", True),
        ("E00005", 1, "final", True),
    ]
    with Session(stores.hub) as session:
        audit = [
            (e.subject, e.detail["by"], e.detail["old_status"], e.detail["new_status"])
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "finding.status")
                .order_by(AuditEntry.id)
            )
        ]
    assert audit == [
        (f"finding/{punches}", "carol", "open", "acknowledged"),
        (f"finding/{anomaly}", "alice", "open", "dismissed"),
        (f"finding/{punches}", "bob", "acknowledged", "confirmed"),
    ]


def test_a_person_held_by_two_findings_stays_held_until_both_are_decided(
    stores: Stores, tmp_path: Path
) -> None:
    """E00001 reads dingtalk too: a second ERROR on their own contract amount holds them for
    both; dismissing only that one keeps them held, and the new version says which is left."""
    templates, _, punches = setup(stores, tmp_path)
    with Session(stores.hub) as session, session.begin():
        own = raise_finding(
            session,
            Observation(
                ANOMALY,
                "anomaly",
                "ERROR",
                "crm",
                PERIOD,
                1,
                job_number="E00001",
                kpi_code="contract_amount",
            ),
        ).id
    run(stores, templates, PEOPLE, "run-1")
    own_reason = f"finding {own} (ERROR {ANOMALY}): 1 flagged in crm, E00001, contract_amount"
    held_punches = f"finding {punches} (ERROR {PUNCHES}): 3 flagged in dingtalk/attendance"
    assert rows(stores)[0] == (
        "E00001",
        1,
        "held",
        None,
        "95.00",
        [held_punches, own_reason],
        None,
    )
    decide(stores, own, "dismissed", "alice", "a real order")
    assert run(stores, templates, PEOPLE, "run-2").published == 1
    assert rows(stores)[0] == (
        "E00001",
        2,
        "held",
        None,
        "95.00",
        [held_punches],
        f"held: {held_punches}; finding {own} dismissed by alice: a real order",
    )
