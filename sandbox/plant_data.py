"""The production floor: quality inspections (QMS) and production receipts (ERP), per month.

Generated lazily per month from their own seeded generators, so a 10,000-person company's month
costs only what is asked for. Planted anomalies: one worker's yield collapses in one month, some
workers' output drops to a tenth for a month, the QMS loses the afternoon of one day, and some
production receipts are booked twice (a second row with its own FID, the same worker, material,
quantity and time). They are applied to what the seeded generators drew, never by drawing
differently, so the rest of the floor keeps its natural values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from sandbox.clock import local, month_number, rng_for, workdays
from sandbox.company import Company, Employee

DOUBLED_FID = 900_000
"""Where a month's doubly booked receipts are numbered: past any month's own receipts."""
MATERIALS = ("M-1001 轴承座", "M-1002 齿轮箱", "M-1003 电机壳", "M-1004 法兰盘")
DEFECTS = ("D01 划伤", "D02 尺寸超差", "D03 气孔", "D04 毛刺", "D05 变形")


@dataclass(frozen=True)
class Inspection:
    inspection_id: str
    batch_no: str
    stage: str
    operator_badge: str
    job_number: str
    line: str
    inspected_qty: int
    qualified_qty: int
    defect_codes: tuple[str, ...]
    inspected_at: datetime


@dataclass(frozen=True)
class ProductionReceipt:
    fid: int
    job_number: str
    material: str
    qty: Decimal
    day: datetime
    status: str
    modified: datetime


class Plant:
    """Inspections and receipts of one company, month by month."""

    def __init__(
        self,
        seed: int,
        size: int,
        company: Company,
        as_of: date,
        collapse: tuple[str, str] | None,
        drops: frozenset[tuple[str, str]] = frozenset(),
        lost_afternoon: date | None = None,
        doubled: tuple[tuple[str, date], ...] = (),
    ) -> None:
        self.seed = seed
        self.size = size
        self.company = company
        self.as_of = as_of
        self.collapse = collapse  # (job_number, period) whose yield collapses
        self.drops = drops  # (job_number, period) whose output falls to a tenth
        self.lost_afternoon = lost_afternoon  # the QMS kept no inspection after noon that day
        self.doubled = doubled  # (job_number, day): that day's approved receipt is booked twice
        self.workers = [e for e in company.employees if e.role == "production"]

    def _working(self, worker: Employee, day: date) -> bool:
        return worker.employed_on(day) and worker.badge_on(day) is not None

    def inspections_on(self, day: date) -> tuple[Inspection, ...]:
        return self._by_day(f"{day.year:04d}-{day.month:02d}").get(day, ())

    @cache  # noqa: B019 - one Plant per world, kept for its lifetime
    def _by_day(self, period: str) -> dict[date, tuple[Inspection, ...]]:
        grouped: dict[date, list[Inspection]] = {}
        for item in self.inspections(period):
            grouped.setdefault(item.inspected_at.date(), []).append(item)
        return {day: tuple(items) for day, items in grouped.items()}

    @cache  # noqa: B019 - one Plant per world, kept for its lifetime
    def inspections(self, period: str) -> tuple[Inspection, ...]:
        rng = rng_for(self.seed, self.size, "inspections", period)
        # ``below(n)`` is what ``randint(a, a + n - 1) - a`` and ``choice`` draw: the same
        # numbers from the same generator state, without their per-call overhead (a
        # 10,000-person month is a quarter of a million items).
        below, uniform_01 = rng._randbelow, rng.random
        found: list[Inspection] = []
        for day in workdays(period, self.as_of):
            sequence = 0
            day_id, batch_day = f"QI{day:%Y%m%d}", f"B{day:%y%m%d}-"
            for worker in self.workers:
                assignment = worker.badge_on(day)
                if not self._working(worker, day) or assignment is None or assignment.badge is None:
                    continue
                low, high = (
                    (0.55, 0.7) if self.collapse == (worker.job_number, period) else (0.94, 1.0)
                )
                for _ in range(2 + below(3)):
                    sequence += 1
                    inspected = 50 + below(151)
                    rate = low + (high - low) * uniform_01()
                    qualified = min(inspected, int(inspected * rate))
                    defects = (
                        tuple(sorted(rng.sample(DEFECTS, k=1 + below(2))))
                        if qualified < inspected
                        else ()
                    )
                    batch = f"{batch_day}{worker.line}-{1 + below(40):03d}"
                    stage = "semi_finished" if uniform_01() < 0.7 else "finished"
                    hour, minute = 8 + below(9), below(60)
                    found.append(
                        Inspection(
                            inspection_id=f"{day_id}{sequence:06d}",
                            batch_no=batch,
                            stage=stage,
                            operator_badge=assignment.badge,
                            job_number=worker.job_number,
                            line=worker.line or "",
                            inspected_qty=inspected,
                            qualified_qty=qualified,
                            defect_codes=defects,
                            inspected_at=local(day, hour, minute, below(60)),
                        )
                    )
        if self.lost_afternoon is not None:
            lost = self.lost_afternoon
            found = [i for i in found if i.inspected_at.date() != lost or i.inspected_at.hour < 12]
        found.sort(key=lambda i: (i.inspected_at, i.inspection_id))
        return tuple(found)

    @cache  # noqa: B019 - one Plant per world, kept for its lifetime
    def receipts(self, period: str) -> tuple[ProductionReceipt, ...]:
        rng = rng_for(self.seed, self.size, "instock", period)
        below, uniform_01 = rng._randbelow, rng.random  # as in inspections()
        quantities = [Decimal(q) for q in range(40, 161)]
        base = month_number(period) * 1_000_000
        found: list[ProductionReceipt] = []
        for day in workdays(period, self.as_of):
            stamps = [local(day, 17, minute) for minute in range(51)]
            for worker in self.workers:
                if not worker.employed_on(day):
                    continue
                stamp = stamps[below(51)]
                status = "C" if uniform_01() < 0.95 else ("A", "B")[below(2)]
                found.append(
                    ProductionReceipt(
                        fid=base + len(found) + 1,
                        job_number=worker.job_number,
                        material=MATERIALS[below(len(MATERIALS))],
                        qty=quantities[below(121)],
                        day=stamp,
                        status=status,
                        modified=stamp,
                    )
                )
        if any(p == period for _, p in self.drops):
            found = [
                replace(r, qty=(r.qty / 10).quantize(Decimal(1), ROUND_HALF_UP))
                if (r.job_number, period) in self.drops
                else r
                for r in found
            ]
        return tuple(found + self._doubled(found, period, base))

    def _doubled(
        self, found: list[ProductionReceipt], period: str, base: int
    ) -> list[ProductionReceipt]:
        """The second bookings of the month: a copy of the worker's first approved receipt on
        or after the planted day, under a new FID."""
        copies: list[ProductionReceipt] = []
        for job_number, day in self.doubled:
            if f"{day:%Y-%m}" != period:
                continue
            original = next(
                (
                    r
                    for r in found
                    if r.job_number == job_number and r.day.date() >= day and r.status == "C"
                ),
                None,
            )
            if original is not None:
                fid = base + DOUBLED_FID + len(copies) + 1
                copies.append(replace(original, fid=fid))
        return copies

    def doubled_receipt(self, job_number: str, period: str) -> ProductionReceipt | None:
        """The copy booked for ``job_number`` in ``period``, if one was planted there."""
        base = month_number(period) * 1_000_000 + DOUBLED_FID
        return next(
            (r for r in self.receipts(period) if r.fid > base and r.job_number == job_number),
            None,
        )
