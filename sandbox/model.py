"""The simulated company as one world: people, CRM, ERP, production floor and attendance, plus
the manifest of anomalies planted in it.

Everything derives from (seed, employees, as_of's month) through explicitly seeded generators, so
the same arguments give byte-identical data; the ground truth is read from this model, never from
what the servers render. Closed months do not change as the current month goes on.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sandbox.attendance_data import Attendance
from sandbox.clock import SHANGHAI, shift_month, workdays
from sandbox.company import Company, Department, Employee, generate_company
from sandbox.crm_data import INTEGRATION_USER, CrmData, CrmUser, Order, generate_crm
from sandbox.erp_data import Erp
from sandbox.plant_data import Plant

HISTORY_MONTHS = 6

__all__ = ["INTEGRATION_USER", "PlantedAnomaly", "World", "generate_world", "iso_local"]


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


def _periods(as_of: date) -> list[str]:
    months = [shift_month(as_of.year, as_of.month, -k) for k in range(HISTORY_MONTHS, -1, -1)]
    return [f"{y:04d}-{m:02d}" for y, m in months]


def generate_world(seed: int = 42, employees: int = 200, as_of: date | None = None) -> World:
    if employees < 1:
        raise ValueError("a company needs at least one employee")
    as_of = as_of or datetime.now(UTC).astimezone(SHANGHAI).date()
    periods = _periods(as_of)
    anchor = date(as_of.year, as_of.month, 1)
    company = generate_company(seed, employees, anchor)
    spike_period, collapse_period = periods[-3], periods[-2]
    workers = [e for e in company.employees if e.role == "production" and not e.leader]
    collapse = (workers[1].job_number, collapse_period) if len(workers) > 1 else None
    lines = sorted({e.line for e in company.employees if e.line})
    outage_day = workdays(spike_period)[7] if lines else None
    outage = (lines[-1], outage_day) if lines and outage_day else None
    crm = generate_crm(seed, employees, company, periods, as_of, spike_period)
    plant = Plant(seed, employees, company, as_of, collapse)
    attendance = Attendance(seed, employees, company, as_of, outage)
    erp = Erp(seed, employees, company, plant, periods, as_of, misposted_period=collapse_period)
    world = World(seed, employees, as_of, periods, company, crm, plant, attendance, erp)
    world.anomalies = _manifest(world, spike_period, collapse, outage)
    return world


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
