"""CRM orders to a traced score, against the sandbox over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.registry import Connector
from pipelines.facts import current_facts
from pipelines.lineage import trace
from pipelines.stores import Stores
from sandbox.ground_truth import truth
from sandbox.model import generate_world
from sandbox.serving import SandboxServer
from schemas.tables import (
    AuditEntry,
    Finding,
    KpiFactRow,
    QuarantineEntry,
    RawRecordVersion,
    Score,
)
from tests.e2e.conftest import AS_OF, PERIODS, run_period, sync

CONTRACT = ("contract_amount",)


def facts_of(stores: Stores, period: str) -> dict[tuple[str, str], Decimal]:
    with Session(stores.hub) as session:
        return {
            (f.job_number, f.kpi_code): f.value
            for f in current_facts(session, period, ["contract_amount"])
        }


def test_contract_amount_facts_equal_the_ground_truth_for_everyone(
    stores: Stores, connectors: dict[str, Connector]
) -> None:
    """The whole demo company (seed 42, 200 employees), every person, every demo period."""
    with SandboxServer(generate_world(42, 200, AS_OF)) as demo:
        sync(stores, demo, connectors, "run-1")
    for period in PERIODS:
        facts, scores = run_period(stores, period, connectors, "run-1")
        expected = {
            (r.job_number, r.kpi_code): r.value for r in truth(demo.world, period, CONTRACT)
        }
        assert len(expected) == 80  # 60 salespeople and 20 customer operations staff
        assert facts_of(stores, period) == expected
        assert scores.scored == 60
        # The integration account's legacy order cannot be placed on anyone: quarantined.
        assert facts.quarantined_by_reason == {"unknown_person": 1}


def test_messy_identities_resolve_by_email(
    stores: Stores, sandbox: SandboxServer, connectors: dict[str, Connector]
) -> None:
    world = sandbox.world
    by_email_only = [u for u in world.crm_users if u.employee_no is None and u.job_number]
    assert by_email_only, "the sandbox must have CRM users without employee_no"
    sync(stores, sandbox, connectors, "run-1")
    run_period(stores, "2026-10", connectors, "run-1")
    facts = facts_of(stores, "2026-10")
    for user in by_email_only:
        assert (user.job_number, "contract_amount") in facts


def test_unknown_person_is_quarantined_counted_and_not_a_fact(
    stores: Stores, sandbox: SandboxServer, connectors: dict[str, Connector]
) -> None:
    sync(stores, sandbox, connectors, "run-1")
    run_period(stores, "2026-10", connectors, "run-1")
    legacy = next(
        o for o in sandbox.world.orders if o.owner_id == "U0999" and o.period == "2026-10"
    )
    with Session(stores.hub) as session:
        rows = session.execute(
            select(
                QuarantineEntry.stream,
                QuarantineEntry.record_key,
                QuarantineEntry.reason,
                QuarantineEntry.detail,
            ).where(QuarantineEntry.period == "2026-10")
        ).all()
        finding = session.scalar(select(Finding).where(Finding.period == "2026-10"))
    assert [tuple(r) for r in rows] == [
        (
            "orders",
            legacy.id,
            "unknown_person",
            "crm U0999 has no job number and e-mail integration@crm.xingchen.example "
            "matches nobody in the directory",
        )
    ]
    assert finding is not None
    assert (finding.check_name, finding.count, finding.detail) == (
        "crm.quarantined_records",
        1,
        {"by_reason": {"unknown_person": 1}},
    )
    # Running again adds no second quarantine entry.
    run_period(stores, "2026-10", connectors, "run-2")
    with Session(stores.hub) as session:
        assert session.scalar(select(func.count()).select_from(QuarantineEntry)) == 1


def test_trace_follows_the_score_to_the_orders_as_fetched(
    stores: Stores, sandbox: SandboxServer, connectors: dict[str, Connector]
) -> None:
    sync(stores, sandbox, connectors, "run-1")
    run_period(stores, "2026-10", connectors, "run-1")
    seller = max(
        (r for r in truth(sandbox.world, "2026-10", CONTRACT)),
        key=lambda r: (r.value, r.job_number),
    )
    data = trace(stores, seller.job_number, "2026-10")
    assert set(data) == {
        "employee",
        "period",
        "score",
        "history",
        "review",
        "components",
        "adjustments",
    }
    assert data["review"] == {"state": "final", "confirm_by": None, "comment": None, "appeals": []}
    employee = sandbox.world.employee(seller.job_number)
    assert employee is not None
    assert data["employee"]["job_number"] == seller.job_number
    assert data["employee"]["name"] == employee.name
    assert data["period"] == "2026-10"
    assert set(data["score"]) == {
        "id", "template", "template_version", "template_sha256", "subtotal", "total", "grade",
        "status", "hold_reasons", "version", "published_at", "rank", "cohort_size", "talent_pool",
    }  # fmt: skip
    assert (data["score"]["template"], data["score"]["version"]) == ("sales", 1)
    [component] = data["components"]
    assert set(component) == {
        "kpi_code", "status", "actual", "target", "target_source", "direction", "cap",
        "attainment", "weight", "weight_used", "points", "note", "facts", "target_facts",
    }  # fmt: skip
    assert (component["target_source"], component["direction"], component["cap"]) == (
        "template",
        "higher",
        "1.2",
    )
    # The total recomputes from the trace alone: attainment x 100 x weight used, rounded.
    points = Decimal(component["attainment"]) * 100 * Decimal(component["weight_used"])
    assert Decimal(component["points"]) == points
    assert data["score"]["total"] == str(points.quantize(Decimal("0.01")))
    assert component["actual"] == f"{seller.value:.2f}"
    assert isinstance(data["score"]["total"], str)
    Decimal(data["score"]["total"])  # a decimal string, not a float
    [fact] = component["facts"]
    assert set(fact) == {"fact_id", "kpi_code", "value", "unit", "records"}
    assert fact["value"] == f"{seller.value:.2f}"
    expected_orders = sorted(
        o.id
        for o in sandbox.world.orders
        if o.owner_id == employee.crm_user_id and o.period == "2026-10" and o.status == "signed"
    )
    assert sorted(r["record_key"] for r in fact["records"]) == expected_orders
    with Session(stores.hub) as session:
        for record in fact["records"]:
            assert set(record) == {
                "source", "stream", "record_key", "payload_sha256", "extracted_at", "payload"
            }  # fmt: skip
            landed = session.scalar(
                select(RawRecordVersion).where(
                    RawRecordVersion.record_key == record["record_key"],
                    RawRecordVersion.payload_sha256 == record["payload_sha256"],
                )
            )
            assert landed is not None
            assert landed.payload == record["payload"]
            assert record["payload"]["id"] == record["record_key"]
    total = sum(Decimal(r["payload"]["amount"]) for r in fact["records"])
    assert total == seller.value


def test_a_second_run_lands_and_publishes_nothing(
    stores: Stores, sandbox: SandboxServer, connectors: dict[str, Connector]
) -> None:
    sync(stores, sandbox, connectors, "run-1")
    first = {p: run_period(stores, p, connectors, "run-1") for p in PERIODS}
    assert all(scores.published == 18 for _, scores in first.values())
    again = sync(stores, sandbox, connectors, "run-2")
    assert sum(s.landed for s in again.values()) == 0
    assert again["crm/orders"].pulled < sum(1 for _ in sandbox.world.orders)
    for period in PERIODS:
        facts, scores = run_period(stores, period, connectors, "run-2")
        assert (facts.stored.created, facts.stored.corrected) == (0, 0)
        assert (scores.published, scores.unchanged) == (0, 18)


def test_an_order_cancelled_after_its_month_restates_fact_and_score(
    stores: Stores, own_sandbox: SandboxServer, connectors: dict[str, Connector]
) -> None:
    world = own_sandbox.world
    sync(stores, own_sandbox, connectors, "run-1")
    for period in PERIODS:
        run_period(stores, period, connectors, "run-1")
    order = next(
        o for o in world.orders
        if o.period == "2026-09" and o.status == "signed" and o.owner_id != "U0999"
    )  # fmt: skip
    owner = next(u for u in world.crm_users if u.id == order.owner_id)
    before = facts_of(stores, "2026-09")
    other_periods = {p: facts_of(stores, p) for p in ("2026-08", "2026-10")}

    response = httpx.post(f"{own_sandbox.crm.url}/_sandbox/orders/{order.id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"

    landed = sync(stores, own_sandbox, connectors, "run-2")
    assert (landed["crm/orders"].landed, landed["crm/orders"].changed) == (1, 1)
    results = {p: run_period(stores, p, connectors, "run-2") for p in PERIODS}

    # A new raw version; the old one stays.
    with Session(stores.hub) as session:
        statuses = session.scalars(
            select(RawRecordVersion.payload["status"].as_string())
            .where(RawRecordVersion.record_key == order.id)
            .order_by(RawRecordVersion.id)
        ).all()
    assert statuses == ["signed", "cancelled"]

    # Exactly one fact corrected, in the order's month only, by the order's amount.
    after = facts_of(stores, "2026-09")
    key = (owner.job_number, "contract_amount")
    assert after[key] == before[key] - order.amount
    assert {k: v for k, v in after.items() if k != key} == {
        k: v for k, v in before.items() if k != key
    }
    assert results["2026-09"][0].stored.corrected == 1
    assert results["2026-09"][0].stored.unchanged == 23
    for period, facts in other_periods.items():
        assert facts_of(stores, period) == facts
        assert results[period][0].stored.corrected == 0
    assert after == {(r.job_number, r.kpi_code): r.value for r in truth(world, "2026-09", CONTRACT)}
    with Session(stores.hub) as session:
        versions = session.execute(
            select(KpiFactRow.version, KpiFactRow.is_current, KpiFactRow.value)
            .where(KpiFactRow.job_number == owner.job_number, KpiFactRow.period == "2026-09")
            .order_by(KpiFactRow.version)
        ).all()
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "fact.corrected")
        ).all()
    assert [(v, c) for v, c, _ in versions] == [(1, False), (2, True)]
    [entry] = audit
    assert entry.subject == f"{owner.job_number}/2026-09/contract_amount"
    assert entry.detail["removed"][0]["record_key"] == order.id
    assert "replaced_by_version" in entry.detail["removed"][0]

    # A new score version supersedes the old one, which stays in the store.
    assert results["2026-09"][1].published == 1
    assert results["2026-09"][1].superseded == 1
    with Session(stores.hr) as session:
        scores = session.scalars(
            select(Score)
            .where(Score.job_number == owner.job_number, Score.period == "2026-09")
            .order_by(Score.version)
        ).all()
    assert [(s.version, s.is_current) for s in scores] == [(1, False), (2, True)]
    assert scores[0].superseded_by == scores[1].id
    assert scores[1].reason is not None and scores[1].reason.startswith("contract_amount ")
    assert f"removed: orders/{order.id}" in scores[1].reason  # the reason names the order
    data = trace(stores, owner.job_number, "2026-09")
    assert data["score"]["version"] == 2
    assert [(h["version"], h["reason"]) for h in data["history"]] == [
        (1, None),
        (2, scores[1].reason),
    ]
    earlier = trace(stores, owner.job_number, "2026-09", version=1)
    assert order.id in [r["record_key"] for r in earlier["components"][0]["facts"][0]["records"]]
    assert order.id not in [r["record_key"] for r in data["components"][0]["facts"][0]["records"]]

    # And re-running with the corrected inputs changes nothing more.
    _, rerun = run_period(stores, "2026-09", connectors, "run-3")
    assert (rerun.published, rerun.unchanged) == (0, 18)
