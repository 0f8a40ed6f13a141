"""Scores drafted from the hub's current facts and published to the HR store: targets and where
they came from, the numbers of the rules kept per component and adjustment, nothing republished
for the same inputs, and a released held score regrading its cohort as new versions that say so.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.assignment import Person
from pipelines.facts import save_facts
from pipelines.publishing import draft_scores, publish
from pipelines.stores import Stores
from schemas.facts import TARGET, Fact
from schemas.settings import DEFAULT_TEMPLATES_DIR
from schemas.tables import Score, ScoreAdjustment, ScoreComponent
from schemas.templates import ScoringTemplate, load_template, load_templates

D = Decimal
PERIOD = "2026-10"
SALES_DEPARTMENT = "星辰制造有限公司/销售中心/华东销售部"
CONTRACT_ONLY = """\
code: contract
version: "1"
name: Contract amount only
assign: [{department: 销售中心}]
components:
  - {kpi: contract_amount, weight: 1, target: 100}
grading:
  distribution:
    top: {grade: A 优秀, share: 0.1, rounding: ceil}
    bottom: {grade: C 待改进, share: 0.2, rounding: floor}
    middle: B 合格
  bands:
    - {grade: A 优秀, min_total: 90}
    - {grade: B 合格, min_total: 60}
    - {grade: C 待改进, min_total: 0}
talent_pool: {grades: [A 优秀]}
"""


def seller(n: int) -> Person:
    return Person(f"E{n:05d}", f"销售{n}", SALES_DEPARTMENT, "销售代表", leader=False)


def store_facts(
    stores: Stores, source: str, kpi_code: str, values: dict[str, str], kind: str = "actual"
) -> None:
    with Session(stores.hub) as session, session.begin():
        save_facts(
            session,
            source=source,
            period=PERIOD,
            kpi_codes=[kpi_code],
            facts=[
                Fact(job, PERIOD, kpi_code, D(v), "CNY", source, (), kind=kind)
                for job, v in values.items()
            ],
            run_id="run-1",
        )


def run(stores: Stores, templates: list[ScoringTemplate], people: list[Person], run_id: str):
    with Session(stores.hub) as session:
        drafts = draft_scores(session, PERIOD, templates, people)
    return publish(stores, drafts, PERIOD, run_id)


def current(stores: Stores) -> dict[str, Score]:
    with Session(stores.hr) as session:
        return {
            s.job_number: s
            for s in session.scalars(
                select(Score).where(Score.period == PERIOD, Score.is_current.is_(True))
            )
        }


def test_a_released_held_score_regrades_its_cohort_as_new_versions_that_say_so(
    stores: Stores, tmp_path: Path
) -> None:
    """Contract amount against a target of 100 is the total. Ten sellers are final, E00011 has no
    fact and is held. When the fact (20) arrives, the cohort is eleven: E00002 rises to A,
    E00009 leaves the bottom two, E00011 is graded C; the other eight are unchanged."""
    (tmp_path / "contract.yaml").write_text(CONTRACT_ONLY, encoding="utf-8")
    templates = [load_template(tmp_path / "contract.yaml")]
    people = [seller(n) for n in range(1, 12)]
    totals = ["90", "80", "70", "65", "60", "55", "50", "45", "40", "35"]
    first = {f"E{n:05d}": t for n, t in enumerate(totals, start=1)}
    store_facts(stores, "crm", "contract_amount", first)

    stats = run(stores, templates, people, "run-1")
    assert (stats.scored, stats.published, stats.held) == (11, 11, 1)
    assert stats.held_by_reason == {"contract_amount: no fact for 2026-10": 1}
    assert stats.by_grade == {"A 优秀": 1, "B 合格": 7, "C 待改进": 2, "held": 1}
    scores = current(stores)
    assert (scores["E00011"].status, scores["E00011"].grade) == ("held", None)
    assert scores["E00011"].hold_reasons == ["contract_amount: no fact for 2026-10"]

    again = run(stores, templates, people, "run-2")
    assert (again.published, again.unchanged) == (0, 11)

    store_facts(stores, "crm", "contract_amount", {**first, "E00011": "20"})
    released = run(stores, templates, people, "run-3")
    assert (released.published, released.superseded, released.unchanged) == (3, 3, 8)
    scores = current(stores)
    changed = {j: (s.version, s.grade, s.reason) for j, s in scores.items() if s.version > 1}
    cohort = "the contract cohort of 2026-10 was graded again (11 final scores"
    fact_id = _fact_ids(stores, "E00011")[0]
    assert changed == {
        "E00002": (2, "A 优秀", f"grade B 合格 -> A 优秀: {cohort}, rank 2)"),
        "E00009": (2, "B 合格", f"grade C 待改进 -> B 合格: {cohort}, rank 9)"),
        "E00011": (
            2,
            "C 待改进",
            f"contract_amount missing -> 20 (fact [] -> [{fact_id}]); released: no longer held "
            f"(contract_amount: no fact for 2026-10); grade none -> C 待改进: {cohort}, rank 11)",
        ),
    }
    with Session(stores.hr) as session:
        old = session.scalars(
            select(Score).where(Score.job_number == "E00002").order_by(Score.version)
        ).all()
    assert [(s.version, s.is_current, s.grade) for s in old] == [
        (1, False, "B 合格"),
        (2, True, "A 优秀"),
    ]
    assert old[0].superseded_by == old[1].id


def _fact_ids(stores: Stores, job_number: str) -> list[int]:
    from schemas.tables import KpiFactRow

    with Session(stores.hub) as session:
        return list(
            session.scalars(
                select(KpiFactRow.id).where(
                    KpiFactRow.job_number == job_number, KpiFactRow.is_current.is_(True)
                )
            )
        )


def test_every_number_of_the_rules_is_kept_with_the_score(stores: Stores) -> None:
    """The demo's sales template for one seller with an ERP contract target, the collection
    target from the template, no survey (excluded), four late arrivals and one absence day.

    contract 300000 / 250000 (erp) = 1.2; collection 150000 / 200000 (template) = 0.75;
    evaluation 81 / 90 = 0.9. Without satisfaction the weights 0.4, 0.3, 0.1 are used as 0.5,
    0.375, 0.125: 60 + 28.125 + 11.25 = 99.375; x 0.9 = 89.4375; - 5 = 84.4375 -> 84.44.
    """
    templates = load_templates(DEFAULT_TEMPLATES_DIR)
    sales = next(t for t in templates if t.code == "sales")
    store_facts(stores, "crm", "contract_amount", {"E00001": "300000"})
    store_facts(stores, "erp", "contract_amount", {"E00001": "250000"}, kind=TARGET)
    store_facts(stores, "erp", "collection_amount", {"E00001": "150000"})
    store_facts(stores, "evaluations", "manager_evaluation", {"E00001": "81"})
    store_facts(stores, "dingtalk", "late_count", {"E00001": "4"})
    store_facts(stores, "dingtalk", "absence_days", {"E00001": "1"})

    stats = run(stores, templates, [seller(1)], "run-1")
    assert (stats.published, stats.held, stats.unassigned) == (1, 0, [])
    score = current(stores)["E00001"]
    assert (score.template, score.template_sha256) == ("sales", sales.content_sha256)
    assert (score.subtotal, score.total, score.status) == (D("99.375"), D("84.44"), "final")
    assert score.grade == "B 合格"  # a cohort of one is graded by the bands: 60 <= 84.44 < 90
    with Session(stores.hr) as session:
        components = session.scalars(
            select(ScoreComponent)
            .where(ScoreComponent.score_id == score.id)
            .order_by(ScoreComponent.position)
        ).all()
        adjustments = session.scalars(
            select(ScoreAdjustment)
            .where(ScoreAdjustment.score_id == score.id)
            .order_by(ScoreAdjustment.position)
        ).all()
    assert [
        (c.kpi_code, c.status, c.target, c.target_source, c.direction, c.cap, c.attainment,
         c.weight, c.weight_used, c.points)
        for c in components
    ] == [
        ("contract_amount", "scored", D(250000), "erp", "higher", D("1.2"), D("1.2"),
         D("0.4"), D("0.5"), D(60)),
        ("customer_satisfaction", "excluded", D("4.2"), "template", "higher", D("1.2"), None,
         D("0.2"), D(0), D(0)),
        ("collection_amount", "scored", D(200000), "template", "higher", D("1.2"), D("0.75"),
         D("0.3"), D("0.375"), D("28.125")),
        ("manager_evaluation", "scored", D(90), "template", "higher", D("1.2"), D("0.9"),
         D("0.1"), D("0.125"), D("11.25")),
    ]  # fmt: skip
    assert components[0].target_fact_id is not None
    assert [(a.rule, a.kind, a.value, a.applied, a.amount) for a in adjustments] == [
        ("late_arrivals", "multiply", D(4), True, D("0.9")),
        ("absence", "subtract", D(1), True, D(5)),
    ]


def test_a_person_no_template_matches_is_reported_not_dropped(
    stores: Stores, tmp_path: Path
) -> None:
    (tmp_path / "contract.yaml").write_text(CONTRACT_ONLY, encoding="utf-8")
    templates = [load_template(tmp_path / "contract.yaml")]
    guest = Person("E00900", "访客", "星辰制造有限公司/财务部", "会计", leader=False)
    store_facts(stores, "crm", "contract_amount", {"E00001": "90"})
    stats = run(stores, templates, [seller(1), guest], "run-1")
    assert stats.scored == 1
    assert [(u.person.job_number, u.reason) for u in stats.unassigned] == [
        (
            "E00900",
            "no template's rule matches department 星辰制造有限公司/财务部, title 会计, "
            "not a leader",
        )
    ]
