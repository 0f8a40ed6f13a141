"""What the generator intended: KPI values per person and period, counted from the model itself,
never from what the servers render or from the hub's code.

Definitions (the hub's KPI catalog says the same in its own words):
- contract_amount: signed (not cancelled) orders by local signing month, per CRM user; CNY.
- new_customers: customers whose first order falls in the month, for that order's salesperson.
- collection_amount: approved receipts (status C) by receipt date, per salesperson; CNY.
- lead_conversion_rate: leads created in the month and converted by its end / leads created, %.
- repurchase_rate: of a carer's customers with a signed order in the month, the share that had
  ordered before the month, %.
- customer_satisfaction: mean survey score (1..5) submitted in the month, per survey owner.
- semi_finished_yield_rate: qualified / inspected over semi-finished inspections, each inspection
  once, attributed by the badge's holder on the inspection day, %.
- output_qty: approved production receipts, pieces.
- cost_control: (target cost - actual cost) / target cost of a cost-centre manager, %.
- late_count: working days with a first punch after shift start + 5 minutes, not covered by an
  approved leave or approval; absence_days: working days without a punch, likewise not covered.
- manager_evaluation, project_progress_rate, innovation_contribution: the values of the imported
  evaluation files (sandbox/evaluations_data.py), one per person and closed month. They are not in
  ``KPI_CODES`` until the hub maps them to facts; ask for ``EVALUATION_KPI_CODES`` explicitly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sandbox.clock import month_start, period_bounds, period_of
from sandbox.evaluations_data import evaluations
from sandbox.model import World

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
KPI_CODES = (
    "absence_days",
    "collection_amount",
    "contract_amount",
    "cost_control",
    "customer_satisfaction",
    "late_count",
    "lead_conversion_rate",
    "new_customers",
    "output_qty",
    "repurchase_rate",
    "semi_finished_yield_rate",
)

EVALUATION_KPI_CODES = ("innovation_contribution", "manager_evaluation", "project_progress_rate")


@dataclass(frozen=True)
class TruthRow:
    job_number: str
    kpi_code: str
    period: str
    value: Decimal


def _rate(part: int | Decimal, whole: int | Decimal) -> Decimal:
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


def _crm(world: World, period: str) -> Iterator[TruthRow]:
    crm = world.crm
    jobs = crm.user_job
    sellers = {p.crm_user_id for p in world.employees if p.role == "sales"}
    carers = {p.crm_user_id for p in world.employees if p.role == "customer_ops"}
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for order in crm.orders:
        if order.status == "signed" and order.period == period:
            amounts[order.owner_id] += order.amount
    for user in crm.users:
        if user.job_number:
            yield TruthRow(
                user.job_number, "contract_amount", period, amounts[user.id].quantize(CENT)
            )
    fresh: dict[str, int] = defaultdict(int)
    for customer in crm.customers:
        if (
            customer.first_order_owner
            and customer.first_order_at
            and period_of(customer.first_order_at) == period
        ):
            fresh[customer.first_order_owner] += 1
    for user_id in sorted(u for u in sellers if u):
        yield TruthRow(jobs[user_id], "new_customers", period, Decimal(fresh[user_id]))
    _, last = period_bounds(period)
    month_end = month_start(last.year, last.month).replace(
        day=last.day, hour=23, minute=59, second=59
    )
    created: dict[str, int] = defaultdict(int)
    converted: dict[str, int] = defaultdict(int)
    for lead in crm.leads:
        if period_of(lead.created_at) != period:
            continue
        created[lead.owner_id] += 1
        if lead.converted_at is not None and lead.converted_at <= month_end:
            converted[lead.owner_id] += 1
    for owner, count in created.items():
        if owner in jobs:
            yield TruthRow(
                jobs[owner], "lead_conversion_rate", period, _rate(converted[owner], count)
            )
    yield from _repurchase(world, period, carers)
    scores: dict[str, list[int]] = defaultdict(list)
    for survey in crm.surveys:
        if period_of(survey.submitted_at) == period:
            scores[survey.owner_id].append(survey.score)
    for owner, values in scores.items():
        if owner in jobs:
            mean = (Decimal(sum(values)) / Decimal(len(values))).quantize(CENT, ROUND_HALF_UP)
            yield TruthRow(jobs[owner], "customer_satisfaction", period, mean)


def _repurchase(world: World, period: str, carers: set[str | None]) -> Iterator[TruthRow]:
    crm = world.crm
    start = month_start(int(period[:4]), int(period[5:]))
    owners = {c.id: c for c in crm.customers}
    buying: dict[str, set[str]] = defaultdict(set)
    for order in crm.orders:
        if order.status == "signed" and order.period == period and order.customer_id in owners:
            buying[owners[order.customer_id].owner_id].add(order.customer_id)
    for owner, customers in buying.items():
        if owner not in carers or owner not in crm.user_job:
            continue
        returning = sum(
            1
            for c in customers
            if (first := owners[c].first_order_at) is not None and first < start
        )
        yield TruthRow(
            crm.user_job[owner], "repurchase_rate", period, _rate(returning, len(customers))
        )


def _erp(world: World, period: str) -> Iterator[TruthRow]:
    collected: dict[str, Decimal] = defaultdict(Decimal)
    for receipt in world.erp.receipts(period):
        if receipt.status == "C" and receipt.day <= world.end:
            collected[receipt.saler_no] += receipt.amount
    for person in world.employees:
        if person.role == "sales":
            value = collected[person.job_number].quantize(CENT)
            yield TruthRow(person.job_number, "collection_amount", period, value)
    output: dict[str, Decimal] = defaultdict(Decimal)
    for receipt in world.plant.receipts(period):
        if receipt.status == "C":
            output[receipt.job_number] += receipt.qty
    for job_number, qty in output.items():
        yield TruthRow(job_number, "output_qty", period, qty)
    for line in world.erp.costs(period):
        value = _rate(line.target - line.actual, line.target)
        yield TruthRow(line.manager_no, "cost_control", period, value)


def _yield(world: World, period: str) -> Iterator[TruthRow]:
    inspected: dict[str, int] = defaultdict(int)
    qualified: dict[str, int] = defaultdict(int)
    for item in world.plant.inspections(period):
        if item.stage == "semi_finished":
            inspected[item.job_number] += item.inspected_qty
            qualified[item.job_number] += item.qualified_qty
    for job_number, total in inspected.items():
        yield TruthRow(
            job_number, "semi_finished_yield_rate", period, _rate(qualified[job_number], total)
        )


def _attendance(world: World, period: str) -> Iterator[TruthRow]:
    late: dict[str, int] = defaultdict(int)
    absent: dict[str, int] = defaultdict(int)
    scheduled: set[str] = set()
    for record in world.attendance.month(period).days:
        scheduled.add(record.job_number)
        late[record.job_number] += record.counts_late
        absent[record.job_number] += record.counts_absent
    for job_number in scheduled:
        yield TruthRow(job_number, "late_count", period, Decimal(late[job_number]))
        yield TruthRow(job_number, "absence_days", period, Decimal(absent[job_number]))


def _evaluations(world: World, period: str) -> Iterator[TruthRow]:
    for item in evaluations(world, period):
        yield TruthRow(item.job_number, item.kpi_code, period, item.value)


# Which KPIs each part yields: the plant and the terminals are generated lazily and cost seconds
# for a large company, so asking only for CRM KPIs must not build them.
PARTS: tuple[tuple[Callable[[World, str], Iterator[TruthRow]], frozenset[str]], ...] = (
    (
        _crm,
        frozenset(
            {
                "contract_amount",
                "customer_satisfaction",
                "lead_conversion_rate",
                "new_customers",
                "repurchase_rate",
            }
        ),
    ),
    (_erp, frozenset({"collection_amount", "cost_control", "output_qty"})),
    (_yield, frozenset({"semi_finished_yield_rate"})),
    (_attendance, frozenset({"absence_days", "late_count"})),
    (_evaluations, frozenset(EVALUATION_KPI_CODES)),
)


def truth(world: World, period: str, kpi_codes: tuple[str, ...] = KPI_CODES) -> list[TruthRow]:
    """Every person's intended value of every KPI that applies to them in ``period``."""
    if period not in world.periods:
        return []
    rows = [
        row
        for part, produces in PARTS
        if produces & set(kpi_codes)
        for row in part(world, period)
        if row.kpi_code in kpi_codes
    ]
    return sorted(rows, key=lambda r: (r.job_number, r.kpi_code))


__all__ = ["EVALUATION_KPI_CODES", "KPI_CODES", "TruthRow", "truth"]
