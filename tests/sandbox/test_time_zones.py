"""Signing times rendered in UTC still belong to their Asia/Shanghai month; the truth says so."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from sandbox.apps.crm import order_payload
from sandbox.clock import SHANGHAI
from sandbox.ground_truth import truth
from sandbox.model import generate_world

AS_OF = date(2026, 11, 22)


def local_period(stamp: str) -> str:
    return (
        datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(SHANGHAI).strftime("%Y-%m")
    )


def test_every_month_has_an_order_whose_utc_text_reads_as_the_previous_month() -> None:
    world = generate_world(3, 40, AS_OF)
    served = [order_payload(o) for o in world.orders]
    misleading = sorted(
        (p["id"], p["signed_at"])
        for p in served
        if p["signed_at"][:7] != local_period(p["signed_at"])
    )
    assert misleading == [
        ("SO-202605-00030", "2026-04-30T20:39:19Z"),
        ("SO-202606-00024", "2026-05-31T17:19:32Z"),
        ("SO-202607-00017", "2026-06-30T17:21:48+00:00"),
        ("SO-202608-00019", "2026-07-31T22:10:13+00:00"),
        ("SO-202609-00003", "2026-08-31T16:32:00Z"),
        ("SO-202610-00028", "2026-09-30T16:50:18+00:00"),
        ("SO-202611-00035", "2026-10-31T22:29:05Z"),
    ]
    # 218 generated orders and the planted extra spike, rendered in local time like most
    assert sum(1 for p in served if p["signed_at"].endswith("+08:00")) == 219


def test_truth_equals_the_served_orders_summed_by_local_month() -> None:
    world = generate_world(3, 40, AS_OF)
    jobs = {u.id: u.job_number for u in world.crm_users if u.job_number}
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for payload in (order_payload(o) for o in world.orders):
        if payload["status"] == "signed" and payload["owner_id"] in jobs:
            key = (jobs[payload["owner_id"]], local_period(payload["signed_at"]))
            expected[key] += Decimal(payload["amount"])
    for period in world.periods:
        rows = truth(world, period, ("contract_amount",))
        assert len(rows) == 16, "every CRM user who is an employee has a row, zero or not"
        assert {(r.job_number, r.period): r.value for r in rows} == {
            (job, period): expected[(job, period)].quantize(Decimal("0.01"))
            for job in sorted(jobs.values())
        }
    may = {r.job_number: r.value for r in truth(world, "2026-05", ("contract_amount",))}
    assert may["E00011"] == Decimal("235153.73")
    assert truth(world, "2026-04") == [], "months before the history have no truth"


def test_contract_truth_for_a_large_company_does_not_build_the_plant() -> None:
    world = generate_world(5, 3000, AS_OF)
    rows = truth(world, "2026-10", ("contract_amount",))
    assert len(rows) == 1200
    assert {r.kpi_code for r in rows} == {"contract_amount"}
    assert all(r.value == r.value.quantize(Decimal("0.01")) for r in rows)
