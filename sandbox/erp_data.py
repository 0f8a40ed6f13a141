"""The ERP (Kingdee/U8-style tables) as a database: written to a SQLite file that the SQLite ODBC
driver serves, or loaded into PostgreSQL or MariaDB for the ODBC tests.

Times are naive local (Asia/Shanghai), as such ERPs store them. One collection receipt is posted
to the wrong salesperson and corrected later (a planted anomaly): written at an instant before the
correction, the table shows the wrong person.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    DECIMAL,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
)

from sandbox.clock import SHANGHAI, local, month_number, rng_for, workdays
from sandbox.company import Company
from sandbox.plant_data import Plant

erp_metadata = MetaData()
HR_EMP = Table(
    "HR_EMP", erp_metadata,
    Column("FEMPNO", String(20), primary_key=True),
    Column("FNAME", String(50)),
    Column("FDEPTNAME", String(100)),
    Column("FBADGE", String(20)),
    Column("FCARDNO", String(20)),
    Column("FSTATUS", String(1)),
    Column("FMODIFYDATE", DateTime),
)  # fmt: skip
HR_EMP_BADGE = Table(
    "HR_EMP_BADGE", erp_metadata,
    Column("FID", Integer, primary_key=True),
    Column("FEMPNO", String(20)),
    Column("FBADGE", String(20)),
    Column("FCARDNO", String(20)),
    Column("FBEGINDATE", DateTime),
    Column("FENDDATE", DateTime),
    Column("FMODIFYDATE", DateTime),
)  # fmt: skip
AR_RECEIPT = Table(
    "AR_RECEIPT", erp_metadata,
    Column("FID", Integer, primary_key=True),
    Column("FBILLNO", String(30)),
    Column("FSALERNO", String(20)),
    Column("FRECAMOUNT", DECIMAL(18, 2)),
    Column("FDATE", DateTime),
    Column("FDOCUMENTSTATUS", String(1)),
    Column("FMODIFYDATE", DateTime),
)  # fmt: skip
SAL_TARGET = Table(
    "SAL_TARGET", erp_metadata,
    Column("FEMPNO", String(20), primary_key=True),
    Column("FPERIOD", String(7), primary_key=True),
    Column("FKPI", String(40), primary_key=True),
    Column("FTARGET", DECIMAL(18, 4)),
    Column("FMODIFYDATE", DateTime),
)  # fmt: skip
PRD_INSTOCK = Table(
    "PRD_INSTOCK", erp_metadata,
    Column("FID", Integer, primary_key=True),
    Column("FEMPNO", String(20)),
    Column("FMATERIAL", String(40)),
    Column("FQTY", DECIMAL(18, 4)),
    Column("FDATE", DateTime),
    Column("FDOCUMENTSTATUS", String(1)),
    Column("FMODIFYDATE", DateTime),
)  # fmt: skip
CB_COST = Table(
    "CB_COST", erp_metadata,
    Column("FCOSTCENTER", String(20), primary_key=True),
    Column("FMANAGERNO", String(20)),
    Column("FPERIOD", String(7), primary_key=True),
    Column("FTARGETCOST", DECIMAL(18, 2)),
    Column("FACTUALCOST", DECIMAL(18, 2)),
    Column("FMODIFYDATE", DateTime),
)  # fmt: skip


@dataclass(frozen=True)
class Receipt:
    fid: int
    bill_no: str
    saler_no: str
    amount: Decimal
    day: datetime
    status: str
    modified: datetime
    wrong_saler_no: str | None = None
    corrected_at: datetime | None = None

    def as_of(self, at: datetime) -> tuple[str, datetime]:
        """The salesperson and modification time the row shows at instant ``at``."""
        if self.wrong_saler_no and self.corrected_at and at < self.corrected_at:
            return self.wrong_saler_no, self.modified
        return self.saler_no, self.corrected_at or self.modified


@dataclass(frozen=True)
class CostLine:
    cost_center: str
    manager_no: str
    period: str
    target: Decimal
    actual: Decimal
    modified: datetime


def naive(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


class Erp:
    def __init__(
        self,
        seed: int,
        size: int,
        company: Company,
        plant: Plant,
        periods: list[str],
        as_of: date,
        misposted_period: str,
    ) -> None:
        self.seed = seed
        self.size = size
        self.company = company
        self.plant = plant
        self.periods = periods
        self.as_of = as_of
        self.misposted_period = misposted_period
        self.misposted: str | None = None

    @cache  # noqa: B019 - one Erp per world, kept for its lifetime
    def receipts(self, period: str) -> tuple[Receipt, ...]:
        rng = rng_for(self.seed, self.size, "receipts", period)
        sellers = self.company.role("sales")
        base = month_number(period) * 100_000
        found: list[Receipt] = []
        days = workdays(period, self.as_of)
        for seller in sellers:
            for _ in range(rng.randint(0, 4)):
                stamp = local(rng.choice(days), rng.randint(9, 17), rng.randint(0, 59))
                status = "C" if rng.random() < 0.9 else rng.choice(("A", "B"))
                fid = base + len(found) + 1
                found.append(
                    Receipt(
                        fid=fid,
                        bill_no=f"SKD{fid}",
                        saler_no=seller.job_number,
                        amount=Decimal(rng.randint(200_000, 15_000_000)) / 100,
                        day=stamp,
                        status=status,
                        modified=stamp + timedelta(hours=1),
                    )
                )
        if period == self.misposted_period and len(sellers) >= 2 and found:
            index = next((i for i, r in enumerate(found) if r.status == "C"), 0)
            right = found[index]
            wrong = next(s.job_number for s in sellers if s.job_number != right.saler_no)
            found[index] = replace(
                right, wrong_saler_no=wrong, corrected_at=right.modified + timedelta(days=3)
            )
            self.misposted = right.bill_no
        return tuple(found)

    @cache  # noqa: B019 - one Erp per world, kept for its lifetime
    def targets(self, period: str) -> tuple[tuple[str, str, Decimal], ...]:
        rng = rng_for(self.seed, self.size, "targets", period)
        rows: list[tuple[str, str, Decimal]] = []
        for person in self.company.employees:
            if person.role == "sales":
                rows.append(
                    (
                        person.job_number,
                        "contract_amount",
                        Decimal(rng.choice((250, 300, 350))) * 1000,
                    )
                )
                rows.append(
                    (
                        person.job_number,
                        "collection_amount",
                        Decimal(rng.choice((150, 200, 250))) * 1000,
                    )
                )
                rows.append((person.job_number, "new_customers", Decimal(rng.choice((1, 2, 3)))))
            elif person.role == "production":
                rows.append(
                    (person.job_number, "output_qty", Decimal(rng.choice((1800, 2000, 2200))))
                )
        return tuple(rows)

    @cache  # noqa: B019 - one Erp per world, kept for its lifetime
    def costs(self, period: str) -> tuple[CostLine, ...]:
        rng = rng_for(self.seed, self.size, "costs", period)
        lines: list[CostLine] = []
        for person in self.company.employees:
            if person.role == "production" and person.leader and person.line:
                target = Decimal(rng.randint(800_000, 1_200_000))
                actual = (target * Decimal(str(rng.uniform(0.85, 1.1)))).quantize(Decimal("0.01"))
                first = workdays(period)[-1]
                lines.append(
                    CostLine(f"CC-{person.line}", person.job_number, period, target, actual,
                             local(first, 20))
                )  # fmt: skip
        return tuple(lines)

    def rows(self, at: datetime) -> Iterator[tuple[Table, list[dict[str, Any]]]]:
        """Every table's rows as they stood at instant ``at``."""
        for table, rows in self._rows(at):
            # A row exists as it stood at ``at``: nothing stamped later has been written yet.
            yield table, [r for r in rows if r["FMODIFYDATE"] <= naive(at)]

    def _rows(self, at: datetime) -> Iterator[tuple[Table, list[dict[str, Any]]]]:
        names = {d.dept_id: d.name for d in self.company.departments}
        yield HR_EMP, [
            {
                "FEMPNO": e.job_number, "FNAME": e.name, "FDEPTNAME": names[e.home_dept],
                "FBADGE": e.current.badge, "FCARDNO": e.current.card_no,
                "FSTATUS": "L" if left else "A",
                "FMODIFYDATE": naive(local(e.left_date if left else e.current.begin, 9)),
            }
            for e in self.company.employees
            for left in [e.left_date is not None and local(e.left_date, 9) <= at]
        ]  # fmt: skip
        yield HR_EMP_BADGE, [
            {
                "FID": n, "FEMPNO": a.job_number, "FBADGE": a.badge, "FCARDNO": a.card_no,
                "FBEGINDATE": naive(local(a.begin, 0)),
                "FENDDATE": naive(local(a.end, 0)) if ended else None,
                "FMODIFYDATE": naive(local(a.end if ended else a.begin, 9)),
            }
            for n, a in enumerate((a for e in self.company.employees for a in e.badges), start=1)
            for ended in [a.end is not None and local(a.end, 9) <= at]
        ]  # fmt: skip
        receipts = []
        for period in self.periods:
            for r in self.receipts(period):
                if r.day > at:
                    continue
                saler, modified = r.as_of(at)
                receipts.append(
                    {"FID": r.fid, "FBILLNO": r.bill_no, "FSALERNO": saler,
                     "FRECAMOUNT": r.amount, "FDATE": naive(r.day), "FDOCUMENTSTATUS": r.status,
                     "FMODIFYDATE": naive(modified)}
                )  # fmt: skip
        yield AR_RECEIPT, receipts
        yield SAL_TARGET, [
            {"FEMPNO": job, "FPERIOD": period, "FKPI": kpi, "FTARGET": value,
             "FMODIFYDATE": naive(local(date(int(period[:4]), int(period[5:]), 1), 8))}
            for period in self.periods
            for job, kpi, value in self.targets(period)
        ]  # fmt: skip
        yield PRD_INSTOCK, [
            {"FID": r.fid, "FEMPNO": r.job_number, "FMATERIAL": r.material, "FQTY": r.qty,
             "FDATE": naive(r.day), "FDOCUMENTSTATUS": r.status, "FMODIFYDATE": naive(r.modified)}
            for period in self.periods
            for r in self.plant.receipts(period)
            if r.day <= at
        ]  # fmt: skip
        yield CB_COST, [
            {"FCOSTCENTER": c.cost_center, "FMANAGERNO": c.manager_no, "FPERIOD": c.period,
             "FTARGETCOST": c.target, "FACTUALCOST": c.actual, "FMODIFYDATE": naive(c.modified)}
            for period in self.periods
            for c in self.costs(period)
            if c.modified <= at
        ]  # fmt: skip


def load_erp(erp: Erp, engine: Engine, at: datetime) -> dict[str, int]:
    """(Re)create the ERP tables in ``engine``'s database and fill them as of ``at``."""
    erp_metadata.drop_all(engine)
    erp_metadata.create_all(engine)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for table, rows in erp.rows(at):
            for chunk in _chunks(rows, 5000):
                conn.execute(insert(table), chunk)
            counts[table.name] = len(rows)
    return counts


def apply_erp_changes(erp: Erp, engine: Engine, since: datetime, at: datetime) -> int:
    """Write the rows changed after ``since`` and by ``at`` over their old selves, as the ERP's
    own users would during the day; returns how many rows were written."""
    written = 0
    with engine.begin() as conn:
        for table, rows in erp.rows(at):
            changed = [r for r in rows if r["FMODIFYDATE"] > naive(since)]
            keys = [c for c in table.primary_key.columns]
            for row in changed:
                conn.execute(delete(table).where(*(c == row[c.name] for c in keys)))
            for chunk in _chunks(changed, 5000):
                conn.execute(insert(table), chunk)
            written += len(changed)
    return written


def write_erp_sqlite(erp: Erp, path: str, at: datetime) -> dict[str, int]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        return load_erp(erp, engine, at)
    finally:
        engine.dispose()


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
