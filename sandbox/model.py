"""The simulated company as one world: people, CRM, ERP, production floor and attendance, plus
the manifest of anomalies planted in it.

Everything derives from (seed, employees, as_of's month) through explicitly seeded generators, so
the same arguments give byte-identical data; the ground truth is read from this model, never from
what the servers render. Closed months do not change as the current month goes on.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sandbox.attendance_data import Attendance, ClockDrift, terminal_of
from sandbox.clock import SHANGHAI, period_bounds, rng_for, shift_month, workdays
from sandbox.company import Company, Department, Employee, generate_company
from sandbox.crm_data import (
    FLOOD_SURVEYS,
    INTEGRATION_USER,
    CrmData,
    CrmUser,
    Order,
    generate_crm,
    plant_spike,
    plant_survey_flood,
)
from sandbox.erp_data import Erp
from sandbox.plant_data import Plant

HISTORY_MONTHS = 6
HANDLED_ELSEWHERE: dict[str, str] = {
    "receipt_misposted": (
        "the ERP shows the wrong salesperson for three days only; a pull in those days lands it, "
        "and the correction as a new version of the receipt that restates the facts, which is "
        "a correction, not an anomaly of the data; a later pull never sees the wrong version"
    ),
}
"""Planted faults that are not anomalies the hub can observe in the data it holds: other parts
of the hub handle them, so anomaly detection's recall is not measured on them."""

__all__ = [
    "HANDLED_ELSEWHERE",
    "INTEGRATION_USER",
    "PlantedAnomaly",
    "World",
    "generate_world",
    "iso_local",
]


def iso_local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


@dataclass(frozen=True)
class PlantedAnomaly:
    """One anomaly the generator put in on purpose; what anomaly detection is scored against."""

    kind: str
    source: str
    period: str
    kpi_code: str | None
    job_number: str | None = None
    stream: str | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "job_number": self.job_number,
            "stream": self.stream,
            "period": self.period,
            "kpi_code": self.kpi_code,
            "detail": self.detail,
        }


@dataclass
class World:
    seed: int
    size: int
    as_of: date
    periods: list[str]
    company: Company
    crm: CrmData
    plant: Plant
    attendance: Attendance
    erp: Erp
    anomalies: list[PlantedAnomaly] = field(default_factory=list)
    full_marks: frozenset[tuple[str, str]] = frozenset()
    """(evaluator's job number, period): that month the evaluator gives everyone 100."""
    clock: Callable[[], datetime] | None = None
    """The sandbox's own "now"; by default the wall clock, never past the end of ``as_of``."""

    def __post_init__(self) -> None:
        self._orders_by_id = {o.id: o for o in self.crm.orders}
        self._by_job_number = self.company.by_job_number()
        self._resort()

    @property
    def departments(self) -> list[Department]:
        return self.company.departments

    @property
    def employees(self) -> list[Employee]:
        return self.company.employees

    @property
    def crm_users(self) -> list[CrmUser]:
        return self.crm.users

    @property
    def orders(self) -> list[Order]:
        return self.crm.orders

    @property
    def closed_periods(self) -> list[str]:
        return self.periods[:-1]

    @property
    def end(self) -> datetime:
        return datetime.combine(self.as_of, time(23, 59, 59), tzinfo=SHANGHAI)

    def now(self) -> datetime:
        """What the systems consider the present: no record stamped later than this is served,
        so the rest of today appears as the day goes on, as it does in a real system. A world
        of a past day has lived through it: everything up to its end is served."""
        moment = self.clock() if self.clock is not None else datetime.now(UTC)
        return min(moment.astimezone(SHANGHAI), self.end)

    def employee(self, job_number: str) -> Employee | None:
        return self._by_job_number.get(job_number)

    def _resort(self) -> None:
        self.crm.orders.sort(key=lambda o: (o.updated_at, o.id))
        self.order_keys = [(o.updated_at, o.id) for o in self.crm.orders]

    def cancel_order(self, order_id: str, at: datetime) -> Order:
        """Cancel an order now, e.g. after its month closed: a correction the hub must restate."""
        order = self._orders_by_id[order_id]
        order.status = "cancelled"
        order.updated_at = at.astimezone(SHANGHAI).replace(microsecond=0)
        self._resort()
        return order

    def orders_since(
        self, since: datetime | None, after: tuple[datetime, str] | None
    ) -> list[Order]:
        """Orders updated at or after ``since``, strictly after the paging key ``after``, and
        not after now."""
        return self.crm.orders[since_slice(self.order_keys, since, after, self.now())]


LAST_KEY = "\U0010ffff"


def since_slice(
    keys: list[tuple[datetime, str]],
    since: datetime | None,
    after: tuple[datetime, str] | None,
    now: datetime,
) -> slice:
    """The rows of a list sorted by (updated, key) that a "changed since" read serves: from
    ``since``, past the paging key ``after``, up to ``now``."""
    start = bisect.bisect_left(keys, (since, "")) if since is not None else 0
    if after is not None:
        start = max(start, bisect.bisect_right(keys, after))
    return slice(start, max(start, bisect.bisect_right(keys, (now, LAST_KEY))))


def _periods(as_of: date, history_months: int = HISTORY_MONTHS) -> list[str]:
    months = [shift_month(as_of.year, as_of.month, -k) for k in range(history_months, -1, -1)]
    return [f"{y:04d}-{m:02d}" for y, m in months]


def generate_world(
    seed: int = 42,
    employees: int = 200,
    as_of: date | None = None,
    history_months: int = HISTORY_MONTHS,
) -> World:
    """The world of ``seed`` and ``employees`` on ``as_of``, keeping ``history_months`` closed
    months. The default half-year is what the demo and the tests know; a benchmark of how
    normalising grows with history asks for a year."""
    if employees < 1:
        raise ValueError("a company needs at least one employee")
    if history_months < 3:
        raise ValueError("the sandbox keeps at least three closed months (its planted anomalies)")
    as_of = as_of or datetime.now(UTC).astimezone(SHANGHAI).date()
    periods = _periods(as_of, history_months)
    anchor = date(as_of.year, as_of.month, 1)
    company = generate_company(seed, employees, anchor)
    spike_period, collapse_period = periods[-3], periods[-2]
    workers = [e for e in company.employees if e.role == "production" and not e.leader]
    collapse = (workers[1].job_number, collapse_period) if len(workers) > 1 else None
    lines = sorted({e.line for e in company.employees if e.line})
    outage_day = workdays(spike_period)[7] if lines else None
    outage = (lines[-1], outage_day) if lines and outage_day else None
    crm = generate_crm(seed, employees, company, periods, as_of, spike_period)
    # The further plants come from a generator of their own: drawing them moves no value that
    # the company's own generators made.
    rng = rng_for(seed, employees, "plants")
    extra = _plant_crm(rng, crm, company, (spike_period, collapse_period), as_of, employees)
    taken = {collapse[0]} if collapse else set()
    drops = _draw_drops(rng, workers, taken, (spike_period, collapse_period), employees)
    afternoon = rng.choice(workdays(spike_period)[2:-2]) if workers else None
    months = (spike_period, collapse_period)
    full_marks = _draw_full_marks(rng, company, months, employees)
    drifts = _draw_drifts(rng, company, outage, months, employees)
    doubled = _draw_doubled(rng, workers, taken, months, employees)
    plant = Plant(
        seed, employees, company, as_of, collapse, frozenset(drops), afternoon, tuple(doubled)
    )
    attendance = Attendance(seed, employees, company, as_of, outage, tuple(drifts))
    erp = Erp(seed, employees, company, plant, periods, as_of, misposted_period=collapse_period)
    world = World(seed, employees, as_of, periods, company, crm, plant, attendance, erp)
    world.full_marks = frozenset((job, period) for job, period, _ in full_marks)
    world.anomalies = _manifest(world, spike_period, collapse, outage)
    world.anomalies += extra + _plant_manifest(drops, afternoon)
    world.anomalies += _later_manifest(world, full_marks, drifts, doubled)
    return world


def _plant_count(size: int, per: int) -> int:
    """Planted anomalies grow with the company: one per ``per`` employees, at least one."""
    return max(1, size // per)


def _plant_crm(
    rng: random.Random,
    crm: CrmData,
    company: Company,
    months: tuple[str, str],
    as_of: date,
    size: int,
) -> list[PlantedAnomaly]:
    found: list[PlantedAnomaly] = []
    sellers = [e for e in company.employees if e.role == "sales" and e.crm_user_id]
    spiked = {crm.user_job.get(o.owner_id) for o in crm.orders if o.id == crm.spike_order}
    candidates = [s for s in sellers if s.job_number not in spiked]
    count = min(len(candidates), _plant_count(size, 100))
    for n, seller in enumerate(rng.sample(candidates, count)):
        period = months[n % 2]
        order = plant_spike(rng, crm, seller.crm_user_id or "", period, as_of, n + 1)
        if order is not None:
            found.append(
                PlantedAnomaly(
                    "contract_amount_spike", "crm", period, "contract_amount",
                    job_number=seller.job_number, stream="orders",
                    detail=f"order {order.id} of {order.amount} CNY",
                )
            )  # fmt: skip
    for n in range(_plant_count(size, 200)):
        period = months[(n + 1) % 2]
        flood = plant_survey_flood(rng, crm, period, as_of)
        if flood is None:
            continue
        customer, carer, day = flood
        what = f"customer {customer} submits {FLOOD_SURVEYS} one-star surveys on {day}"
        found += [
            PlantedAnomaly(
                "survey_flood", "crm", period, "customer_satisfaction",
                job_number=crm.user_job[carer], stream="surveys", detail=what,
            ),
            PlantedAnomaly(
                "survey_flood", "crm", period, "customer_satisfaction", stream="surveys",
                detail=f"{what}: the stream's volume of that day",
            ),
        ]  # fmt: skip
    return found


def _draw_drops(
    rng: random.Random,
    workers: list[Employee],
    taken: set[str],
    months: tuple[str, str],
    size: int,
) -> list[tuple[str, str]]:
    """Workers whose output falls to a tenth for a month: employed all through the month, so
    the drop is the plant's and not a hire's or a leaver's short month."""
    drops: list[tuple[str, str]] = []
    for n in range(_plant_count(size, 40)):
        period = months[n % 2]
        first, last = _bounds(period)
        steady = [
            w
            for w in workers
            if w.job_number not in taken and w.employed_on(first) and w.employed_on(last)
        ]
        if not steady:
            break
        worker = rng.choice(steady)
        taken.add(worker.job_number)
        drops.append((worker.job_number, period))
    return drops


MIN_EVALUATED = 5
"""An evaluator planted to give everyone 100 evaluates at least this many people that month:
fewer equal scores could be chance."""
DRIFT_DAYS = 5


def _evaluated_by(company: Company, period: str) -> dict[str, list[Employee]]:
    """Who each evaluator evaluates in ``period``, as sandbox/evaluations_data.py assigns
    them: the leader of the person's home department, never the person themselves."""
    leaders = {e.home_dept: e for e in company.employees if e.leader}
    first, last = period_bounds(period)
    found: dict[str, list[Employee]] = {}
    for person in company.employees:
        manager = leaders.get(person.home_dept)
        employed = person.hired_date <= last and (
            person.left_date is None or person.left_date > first
        )
        if manager is not None and manager is not person and employed:
            found.setdefault(manager.job_number, []).append(person)
    return found


def _draw_full_marks(
    rng: random.Random, company: Company, months: tuple[str, str], size: int
) -> list[tuple[str, str, int]]:
    """Evaluators who give everyone they evaluate 100 for one month: (job number, period,
    how many people)."""
    drawn: list[tuple[str, str, int]] = []
    for n in range(_plant_count(size, 200)):
        period = months[n % 2]
        teams = _evaluated_by(company, period)
        chosen = {job for job, p, _ in drawn if p == period}
        candidates = sorted(
            job for job, team in teams.items() if len(team) >= MIN_EVALUATED and job not in chosen
        )
        if not candidates:
            continue
        job = rng.choice(candidates)
        drawn.append((job, period, len(teams[job])))
    return drawn


def _draw_drifts(
    rng: random.Random,
    company: Company,
    outage: tuple[str, date] | None,
    months: tuple[str, str],
    size: int,
) -> list[ClockDrift]:
    """Terminals whose clock runs an hour late for a week of working days."""
    lines = sorted({e.line for e in company.employees if e.line})
    devices = sorted(
        {
            terminal_of(e.line, a.card_no)
            for e in company.employees
            if e.line and e.uses_terminals and (outage is None or e.line != outage[0])
            for a in e.badges
        }
    )
    drifts: list[ClockDrift] = []
    if not lines or not devices:
        return drifts
    for n in range(_plant_count(size, 200)):
        days = workdays(months[n % 2])
        start = rng.randrange(0, max(1, len(days) - DRIFT_DAYS + 1))
        drifts.append(ClockDrift(rng.choice(devices), frozenset(days[start : start + DRIFT_DAYS])))
    return drifts


def _draw_doubled(
    rng: random.Random,
    workers: list[Employee],
    taken: set[str],
    months: tuple[str, str],
    size: int,
) -> list[tuple[str, date]]:
    """Workers one of whose production receipts is booked twice: (job number, day)."""
    doubled: list[tuple[str, date]] = []
    for n in range(_plant_count(size, 100)):
        days = workdays(months[(n + 1) % 2])
        day = rng.choice(days[:-3])
        steady = [w for w in workers if w.job_number not in taken and w.employed_on(day)]
        if not steady:
            break
        worker = rng.choice(steady)
        taken.add(worker.job_number)
        doubled.append((worker.job_number, day))
    return doubled


def _later_manifest(
    world: World,
    full_marks: list[tuple[str, str, int]],
    drifts: list[ClockDrift],
    doubled: list[tuple[str, date]],
) -> list[PlantedAnomaly]:
    found = [
        PlantedAnomaly(
            "evaluator_full_marks", "evaluations", period, "manager_evaluation",
            stream="evaluations",
            detail=f"evaluator {job} gives all {count} people they evaluate 100",
        )
        for job, period, count in full_marks
    ]  # fmt: skip
    for drift in drifts:
        first, last = min(drift.days), max(drift.days)
        found.append(
            PlantedAnomaly(
                "terminal_clock_late", "attendance", f"{first:%Y-%m}", "late_count",
                stream="punches",
                detail=f"terminal {drift.device} stamps every punch an hour late from "
                f"{first.isoformat()} to {last.isoformat()}",
            )
        )  # fmt: skip
    for job, day in doubled:
        copy = world.plant.doubled_receipt(job, f"{day:%Y-%m}")
        if copy is not None:
            found.append(
                PlantedAnomaly(
                    "receipt_booked_twice", "erp", f"{day:%Y-%m}", "output_qty",
                    job_number=job, stream="prd_instock",
                    detail=f"the receipt of {copy.day.date().isoformat()} is booked a second "
                    f"time as FID {copy.fid}",
                )
            )  # fmt: skip
    return found


def _bounds(period: str) -> tuple[date, date]:
    days = workdays(period)
    return days[0], days[-1]


def _plant_manifest(drops: list[tuple[str, str]], afternoon: date | None) -> list[PlantedAnomaly]:
    found = [
        PlantedAnomaly(
            "output_drop",
            "erp",
            period,
            "output_qty",
            job_number=job,
            stream="prd_instock",
            detail="every production receipt of the month is a tenth of its quantity",
        )
        for job, period in drops
    ]
    if afternoon is not None:
        found.append(
            PlantedAnomaly(
                "half_day_loss", "qms", afternoon.strftime("%Y-%m"), "semi_finished_yield_rate",
                stream="inspections",
                detail=f"no inspection after noon on {afternoon.isoformat()} reached the QMS",
            )
        )  # fmt: skip
    return found


def _manifest(
    world: World,
    spike_period: str,
    collapse: tuple[str, str] | None,
    outage: tuple[str, date] | None,
) -> list[PlantedAnomaly]:
    found: list[PlantedAnomaly] = []
    spike = next((o for o in world.orders if o.id == world.crm.spike_order), None)
    if spike is not None:
        found.append(
            PlantedAnomaly(
                "contract_amount_spike", "crm", spike_period, "contract_amount",
                job_number=world.crm.user_job.get(spike.owner_id), stream="orders",
                detail=f"order {spike.id} of {spike.amount} CNY",
            )
        )  # fmt: skip
    if collapse is not None:
        found.append(
            PlantedAnomaly(
                "yield_collapse", "qms", collapse[1], "semi_finished_yield_rate",
                job_number=collapse[0], stream="inspections",
                detail="qualified/inspected falls to 55-70% for the whole month",
            )
        )  # fmt: skip
    if outage is not None:
        found.append(
            PlantedAnomaly(
                "missing_punches", "attendance", outage[1].strftime("%Y-%m"), "absence_days",
                stream="punches",
                detail=f"no punch at all from line {outage[0]} on {outage[1].isoformat()}",
            )
        )  # fmt: skip
    if collapse is not None:
        found.append(
            PlantedAnomaly(
                "duplicate_items", "qms", collapse[1], "semi_finished_yield_rate",
                stream="inspections",
                detail="items at page boundaries are served again on the next page",
            )
        )  # fmt: skip
        world.erp.receipts(collapse[1])
        if world.erp.misposted:
            found.append(
                PlantedAnomaly(
                    "receipt_misposted", "erp", collapse[1], "collection_amount",
                    stream="AR_RECEIPT",
                    detail=f"receipt {world.erp.misposted} posted to the wrong salesperson, "
                    "corrected three days later",
                )
            )  # fmt: skip
    return found
