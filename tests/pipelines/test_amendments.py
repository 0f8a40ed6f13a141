"""Target changes and manual adjustments on both store backends: an approved change becomes a fact
whose source record is the approval, the next run restates the score with it as the reason, the
total recomputes from the trace, an amended appeal carries through to a reviewed new version,
and every refused step changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipelines import amendments, review
from pipelines.lineage import trace
from pipelines.publishing import PublishStats
from pipelines.review import Actor, ReviewError
from pipelines.stores import Stores
from schemas.settings import get_settings
from schemas.tables import AuditEntry, KpiFactRow, RawRecordVersion, ScoreChange
from schemas.templates import ScoringTemplate, load_template
from tests.pipelines.test_score_publishing import (
    CONTRACT_ONLY,
    PERIOD,
    current,
    run,
    seller,
    store_facts,
)

D = Decimal
MANAGER = Actor("E00009", "leader")
HR = Actor("E00056", "hr")
OTHER_HR = Actor("E00057", "hr")
EMPLOYEE = Actor("E00001", "employee")
SELLERS = [seller(n) for n in (1, 2, 3)]


@pytest.fixture
def template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScoringTemplate:
    """The contract-only template, in the templates folder the hub reads, letting managers
    propose adjustments of up to 10 points."""
    folder = tmp_path / "templates"
    folder.mkdir()
    path = folder / "contract.yaml"
    path.write_text(
        CONTRACT_ONLY + "manual_adjustments: {by_managers: true, max_points: 10}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KPIHUB_TEMPLATES_DIR", str(folder))
    get_settings.cache_clear()
    return load_template(path)


def scored(stores: Stores, template: ScoringTemplate, run_id: str = "run-1") -> PublishStats:
    """One scoring run as the scores asset does it: land approved changes, score, publish,
    carry amended appeals."""
    amendments.land_changes(stores, PERIOD, run_id)
    stats = run(stores, [template], SELLERS, run_id)
    review.carry_amendments(stores, PERIOD)
    return stats


def setup_month(stores: Stores, template: ScoringTemplate) -> None:
    store_facts(stores, "crm", "contract_amount", {"E00001": "80", "E00002": "100", "E00003": "90"})
    scored(stores, template)


def audit(stores: Stores) -> list[tuple[str, str, Any, Any]]:
    with Session(stores.hub) as hub:
        return [
            (e.action, e.detail.get("actor"), e.detail.get("before"), e.detail.get("after"))
            for e in hub.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action not in ("score.published", "fact.corrected")
        ]


def recomputed(data: dict[str, Any]) -> Decimal:
    """The total from a trace's JSON alone, as a reader would work it out by hand."""
    running = sum(
        (
            D(c["attainment"]) * 100 * D(c["weight_used"])
            for c in data["components"]
            if c["attainment"] is not None
        ),
        D(0),
    )
    for a in data["adjustments"]:
        amount = D(a["amount"])
        if a["kind"] == "multiply":
            running *= amount
        elif a["kind"] == "add":
            running += amount
        else:
            running -= amount
    return max(running, D(0)).quantize(D("0.01"), ROUND_HALF_UP)


def test_an_approved_target_change_restates_the_score_and_traces_to_the_approval(
    stores: Stores, template: ScoringTemplate
) -> None:
    setup_month(stores, template)
    assert current(stores)["E00001"].total == D("80.00")
    proposed = amendments.propose_target(
        stores, MANAGER, "E00001", PERIOD, "contract_amount", "80", "客户流失，目标调整为8万"
    )
    assert (proposed["status"], proposed["old_value"], proposed["value"]) == (
        "proposed",
        "100",
        "80",
    )
    assert scored(stores, template, "run-2").published == 0  # waiting for HR changes nothing

    decided = amendments.decide(stores, HR, proposed["id"], approve=True, note="同意")
    assert (decided["status"], decided["decided_by"]) == ("approved", "E00056")
    stats = scored(stores, template, "run-3")
    assert (stats.published, stats.unchanged) == (1, 2)
    score = current(stores)["E00001"]
    assert (score.version, score.total) == (2, D("100.00"))
    assert score.reason == (
        "contract_amount target 100 (template) -> 80 (review): target change "
        f"{proposed['id']} approved by E00056 (proposed by E00009): 客户流失，目标调整为8万; "
        "grade B 合格 -> A 优秀: the contract cohort of 2026-10 was graded again "
        "(3 final scores, rank 1)"
    )

    data = json.loads(json.dumps(trace(stores, "E00001", PERIOD)))
    component = data["components"][0]
    assert (component["target"], component["target_source"]) == ("80", "review")
    [target_fact] = component["target_facts"]
    [record] = target_fact["records"]
    assert (record["source"], record["stream"], record["record_key"]) == (
        "review",
        "target_changes",
        str(proposed["id"]),
    )
    assert {k: record["payload"][k] for k in ("proposed_by", "decided_by", "reason", "value")} == {
        "proposed_by": "E00009",
        "decided_by": "E00056",
        "reason": "客户流失，目标调整为8万",
        "value": "80",
    }
    assert recomputed(data) == D(data["score"]["total"]) == D("100.00")
    assert audit(stores) == [
        ("target.proposed", "E00009", "100", "80"),
        ("target.approved", "E00056", "proposed", "approved"),
    ]
    assert (
        scored(stores, template, "run-4").published == 0
    )  # landing the approval again adds nothing
    with Session(stores.hub) as hub:
        assert hub.scalar(
            select(func.count()).select_from(RawRecordVersion).where(
                RawRecordVersion.source == "review"
            )
        ) == 1  # fmt: skip


def test_a_newer_approved_target_change_supersedes_the_earlier_one(
    stores: Stores, template: ScoringTemplate
) -> None:
    setup_month(stores, template)
    first = amendments.propose_target(
        stores, MANAGER, "E00001", PERIOD, "contract_amount", "90", "一"
    )
    amendments.decide(stores, HR, first["id"], approve=True)
    second = amendments.propose_target(
        stores, MANAGER, "E00001", PERIOD, "contract_amount", "80", "二"
    )
    assert second["old_value"] == "100"  # the score has not been restated yet
    amendments.decide(stores, HR, second["id"], approve=True)
    scored(stores, template, "run-2")
    score = current(stores)["E00001"]
    assert (score.version, score.total) == (2, D("100.00"))
    with Session(stores.hub) as hub:
        revised = list(
            hub.scalars(
                select(KpiFactRow).where(KpiFactRow.kind == "revised").order_by(KpiFactRow.id)
            )
        )
    assert [(f.value, f.version, f.is_current) for f in revised] == [
        (D(90), 1, False),
        (D(80), 2, True),
    ]


def test_a_manual_adjustment_is_added_after_the_rules_and_recomputes_from_the_trace(
    stores: Stores, template: ScoringTemplate
) -> None:
    setup_month(stores, template)
    bonus = amendments.add_adjustment(stores, HR, "E00003", PERIOD, "5", "年度重点项目攻关")
    assert (bonus["status"], bonus["decided_by"]) == ("approved", "E00056")  # HR's own: at once
    deduction = amendments.add_adjustment(stores, MANAGER, "E00003", PERIOD, "-1.5", "报表迟交")
    assert deduction["status"] == "proposed"
    amendments.decide(stores, HR, deduction["id"], approve=True)
    scored(stores, template, "run-2")
    score = current(stores)["E00003"]
    assert (score.version, score.subtotal, score.total) == (2, D(90), D("93.50"))
    assert score.reason == (
        f"manual_adjustment missing -> 3.5: manual adjustment 5 points {bonus['id']} approved by "
        f"E00056: 年度重点项目攻关; manual adjustment -1.5 points {deduction['id']} approved by "
        "E00056 (proposed by E00009): 报表迟交"
    )
    data = json.loads(json.dumps(trace(stores, "E00003", PERIOD)))
    [manual] = data["adjustments"]
    assert (manual["rule"], manual["kind"], manual["amount"]) == ("manual", "add", "3.5")
    [fact] = manual["facts"]
    assert [(r["stream"], r["record_key"]) for r in fact["records"]] == [
        ("manual_adjustments", str(bonus["id"])),
        ("manual_adjustments", str(deduction["id"])),
    ]
    assert recomputed(data) == D(data["score"]["total"]) == D("93.50")


def test_an_amended_appeal_carries_through_to_a_reviewed_new_version(
    stores: Stores, template: ScoringTemplate
) -> None:
    setup_month(stores, template)
    review.approve(stores, MANAGER, "E00001", PERIOD)
    appeal_id = review.file_appeal(
        stores, EMPLOYEE, "E00001", PERIOD, "大客户流失，目标应下调", "contract_amount"
    )
    change = amendments.propose_target(
        stores, MANAGER, "E00001", PERIOD, "contract_amount", "80", "大客户流失",
        answer="同意下调目标，待人事审批",
    )  # fmt: skip
    view = review.review_view(stores, "E00001", PERIOD)
    assert view["state"] == "appealed"
    assert [(a["status"], a["change_id"]) for a in view["appeals"]] == [("amended", change["id"])]
    assert change["appeal_id"] == appeal_id
    scored(stores, template, "run-2")
    assert review.review_view(stores, "E00001", PERIOD)["state"] == "appealed"  # HR has not yet

    amendments.decide(stores, HR, change["id"], approve=True)
    scored(stores, template, "run-3")
    assert current(stores)["E00001"].version == 2
    view = review.review_view(stores, "E00001", PERIOD)
    assert view["state"] == "reviewed" and view["confirm_by"] is not None
    review.confirm(stores, EMPLOYEE, "E00001", PERIOD)
    review.archive(stores, HR, "E00001", PERIOD)
    assert audit(stores) == [
        ("review.approve", "E00009", "final", "reviewed"),
        ("review.appeal", "E00001", "reviewed", "appealed"),
        ("target.proposed", "E00009", "100", "80"),
        ("appeal.amended", "E00009", "appealed", "appealed"),
        ("target.approved", "E00056", "proposed", "approved"),
        ("review.reset", "kpihub", "appealed", "final"),
        ("review.amended", "kpihub", "final", "reviewed"),
        ("review.confirm", "E00001", "reviewed", "confirmed"),
        ("review.archive", "E00056", "confirmed", "archived"),
    ]


def test_a_rejected_change_changes_nothing_and_reopens_the_appeal_it_amended(
    stores: Stores, template: ScoringTemplate
) -> None:
    setup_month(stores, template)
    review.approve(stores, MANAGER, "E00001", PERIOD)
    review.file_appeal(stores, EMPLOYEE, "E00001", PERIOD, "目标太高")
    change = amendments.add_adjustment(
        stores, MANAGER, "E00001", PERIOD, "10", "补偿", answer="加10分"
    )
    with pytest.raises(ReviewError, match="needs a note"):
        amendments.decide(stores, HR, change["id"], approve=False)
    amendments.decide(stores, HR, change["id"], approve=False, note="无依据")
    assert scored(stores, template, "run-2").published == 0
    view = review.review_view(stores, "E00001", PERIOD)
    assert view["state"] == "appealed"
    assert [(a["status"], a["change_id"]) for a in view["appeals"]] == [("open", None)]
    assert audit(stores)[-2:] == [
        ("adjustment.rejected", "E00056", "proposed", "rejected"),
        ("appeal.reopened", "E00056", "amended", "open"),
    ]
    with pytest.raises(ReviewError, match="was rejected"):
        review.answer_appeal(stores, MANAGER, "E00001", PERIOD, "amended", "x", 5, change["id"])


def _count_changes(stores: Stores) -> int:
    with Session(stores.hr) as hr:
        return hr.scalar(select(func.count()).select_from(ScoreChange)) or 0


def contract_target(stores: Stores, actor: Actor, job_number: str, *args: str, **kw: str) -> object:
    return amendments.propose_target(
        stores, actor, job_number, PERIOD, "contract_amount", *args, **kw
    )


REFUSED: list[tuple[Callable[[Stores], object], str]] = [
    (
        lambda s: contract_target(s, EMPLOYEE, "E00002", "1", "x"),
        "only a manager or HR may propose a target change",
    ),
    (
        lambda s: contract_target(s, Actor("E00001", "leader"), "E00001", "1", "x"),
        "nobody may propose a target change for their own score",
    ),
    (
        lambda s: amendments.propose_target(s, MANAGER, "E00001", PERIOD, "nosuch", "1", "x"),
        "unknown KPI 'nosuch'",
    ),
    (
        lambda s: amendments.propose_target(s, MANAGER, "E00001", PERIOD, "late_count", "1", "x"),
        "late_count is not a component of the contract score of E00001 for 2026-10",
    ),
    (
        lambda s: contract_target(s, MANAGER, "E00001", "80.001", "x"),
        "a target 80.001 has more than 2 decimal(s)",
    ),
    (
        lambda s: contract_target(s, MANAGER, "E00001", "-5", "x"),
        "a target is positive, not -5",
    ),
    (
        lambda s: contract_target(s, MANAGER, "E00001", "1e40", "x"),
        "a target 1e40 is too large",
    ),
    (
        lambda s: contract_target(s, MANAGER, "E00001", "abc", "x"),
        "a target 'abc' is not a number",
    ),
    (
        lambda s: contract_target(s, MANAGER, "E00001", "100", "x"),
        "the contract_amount target of E00001 is 100 already",
    ),
    (
        lambda s: contract_target(s, MANAGER, "E00001", "80", " "),
        "a change needs a reason",
    ),
    (
        lambda s: contract_target(s, MANAGER, "E09999", "80", "x"),
        "job number E09999 has no published score for 2026-10",
    ),
    (
        lambda s: amendments.add_adjustment(s, MANAGER, "E00001", PERIOD, "10.5", "x"),
        "an adjustment is between -10 and 10 points and not 0, not 10.5",
    ),
    (
        lambda s: amendments.add_adjustment(s, HR, "E00001", PERIOD, "0", "x"),
        "an adjustment is between -10 and 10 points and not 0, not 0",
    ),
    (
        lambda s: contract_target(s, MANAGER, "E00001", "80", "x", answer="y"),
        "the score of E00001 for 2026-10 is final, not appealed",
    ),
    (
        lambda s: amendments.decide(s, MANAGER, 1, approve=True),
        "only HR may approve or reject a change",
    ),
    (lambda s: amendments.decide(s, HR, 99, approve=True), "there is no change 99"),
    (
        lambda s: review.answer_appeal(s, MANAGER, "E00001", PERIOD, "amended", "x"),
        "the score of E00001 for 2026-10 is final, not appealed",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("step", "message"), REFUSED)
def test_a_change_out_of_role_or_turn_is_refused_and_changes_nothing(
    stores: Stores, template: ScoringTemplate, step: Callable[[Stores], object], message: str
) -> None:
    setup_month(stores, template)
    before = audit(stores)
    with pytest.raises(ReviewError) as refused:
        step(stores)
    assert str(refused.value) == message
    assert audit(stores) == before
    assert _count_changes(stores) == 0


def test_decisions_are_refused_on_ones_own_proposal_twice_or_without_a_template_allowing_it(
    stores: Stores, template: ScoringTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_month(stores, template)
    own = amendments.propose_target(stores, HR, "E00001", PERIOD, "contract_amount", "80", "x")
    with pytest.raises(ReviewError, match="is your own proposal: another HR decides it"):
        amendments.decide(stores, HR, own["id"], approve=True)
    with pytest.raises(ReviewError, match=f"change {own['id']} on this is waiting"):
        amendments.propose_target(stores, MANAGER, "E00001", PERIOD, "contract_amount", "70", "y")
    amendments.decide(stores, OTHER_HR, own["id"], approve=True)
    with pytest.raises(ReviewError, match=f"change {own['id']} is approved already"):
        amendments.decide(stores, OTHER_HR, own["id"], approve=False, note="no")
    strict = tmp_path / "strict"
    strict.mkdir()
    (strict / "contract.yaml").write_text(CONTRACT_ONLY, encoding="utf-8")
    monkeypatch.setenv("KPIHUB_TEMPLATES_DIR", str(strict))
    get_settings.cache_clear()
    with pytest.raises(ReviewError, match="the contract template lets only HR adjust a score"):
        amendments.add_adjustment(stores, MANAGER, "E00001", PERIOD, "2", "x")
    review.approve(stores, MANAGER, "E00002", PERIOD)
    review.confirm(stores, Actor("E00002", "employee"), "E00002", PERIOD)
    review.archive(stores, HR, "E00002", PERIOD)
    with pytest.raises(ReviewError, match="the score of E00002 for 2026-10 is archived"):
        amendments.add_adjustment(stores, HR, "E00002", PERIOD, "2", "x")
