"""The simulated company: a deterministic model of departments, people and their CRM orders.

Everything derives from (seed, employees, as_of) through explicitly seeded generators, so the same
arguments give byte-identical data, and the ground truth is read from this model, not from what
the servers render.
"""

from __future__ import annotations

import bisect
import calendar
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORY_MONTHS = 6
INTEGRATION_USER = "U0999"
COMPANY = "星辰制造有限公司"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊"
    "帆帅旭宁龙林欣佳雪婷倩琳晨阳博文轩怡梓涵子豪瑞嘉思雨"
)


@dataclass(frozen=True)
class Department:
    dept_id: int
    name: str
    parent_id: int


# (dept_id, name, parent_id, role of its members or None for a container)
DEPARTMENTS: tuple[tuple[int, str, int, str | None], ...] = (
    (1, COMPANY, 0, None),
    (210, "销售中心", 1, None),
    (211, "华东销售部", 210, "sales"),
    (212, "华南销售部", 210, "sales"),
    (220, "客户运营部", 1, "customer_ops"),
    (230, "生产中心", 1, None),
    (231, "一号产线", 230, "production"),
    (232, "二号产线", 230, "production"),
    (240, "研发中心", 1, "rnd"),
    (250, "行政部", 1, "admin"),
)
ROLE_SHARES = (("sales", 0.30), ("customer_ops", 0.10), ("production", 0.40), ("rnd", 0.12))
TITLES = {
    "sales": "销售代表",
    "customer_ops": "客户运营专员",
    "production": "操作工",
    "rnd": "研发工程师",
    "admin": "行政专员",
}


@dataclass
class Employee:
    job_number: str
    name: str
    email: str
    role: str
    dept_ids: list[int]
    userid: str
    unionid: str
    title: str
    hired_date: date
    leader: bool = False
    crm_user_id: str | None = None


@dataclass
class CrmUser:
    id: str
    name: str
    email: str
    employee_no: str | None
    updated_at: datetime
    job_number: str | None


@dataclass
class Order:
    id: str
    customer_id: str
    owner_id: str
    amount: Decimal
    signed_at: datetime
    utc_rendering: str | None
    status: str
    updated_at: datetime

    @property
    def period(self) -> str:
        return self.signed_at.astimezone(SHANGHAI).strftime("%Y-%m")


def iso_local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=SHANGHAI)


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


@dataclass
class World:
    seed: int
    size: int
    as_of: date
    departments: list[Department]
    employees: list[Employee]
    crm_users: list[CrmUser]
    orders: list[Order] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._orders_by_id = {o.id: o for o in self.orders}
        self._resort()

    def _resort(self) -> None:
        self.orders.sort(key=lambda o: (o.updated_at, o.id))
        self.order_keys = [(o.updated_at, o.id) for o in self.orders]

    @property
    def periods(self) -> list[str]:
        """The closed months the company has history for, oldest first, then the current one."""
        months = [
            shift_month(self.as_of.year, self.as_of.month, -k)
            for k in range(HISTORY_MONTHS, -1, -1)
        ]
        return [f"{y:04d}-{m:02d}" for y, m in months]

    @property
    def end(self) -> datetime:
        return datetime.combine(self.as_of, time(23, 59, 59), tzinfo=SHANGHAI)

    def employee(self, job_number: str) -> Employee | None:
        return next((e for e in self.employees if e.job_number == job_number), None)

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
        """Orders updated at or after ``since`` and strictly after the paging key ``after``."""
        start = 0
        if since is not None:
            start = bisect.bisect_left(self.order_keys, (since, ""))
        if after is not None:
            start = max(start, bisect.bisect_right(self.order_keys, after))
        return self.orders[start:]


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _roles(size: int) -> list[str]:
    counts = {role: int(size * share) for role, share in ROLE_SHARES}
    counts["sales"] = max(1, counts["sales"])
    counts["admin"] = max(0, size - sum(counts.values()))
    roles: list[str] = []
    for role in ("sales", "customer_ops", "production", "rnd", "admin"):
        roles.extend([role] * counts.get(role, 0))
    return roles[:size]


def _employees(rng: random.Random, size: int, as_of: date) -> list[Employee]:
    leaves: dict[str, list[int]] = {}
    for dept_id, _, _, role in DEPARTMENTS:
        if role:
            leaves.setdefault(role, []).append(dept_id)
    people: list[Employee] = []
    led: set[int] = set()
    for index, role in enumerate(_roles(size), start=1):
        home = leaves[role][index % len(leaves[role])]
        job_number = f"E{index:05d}"
        dept_ids = [home]
        if rng.random() < 0.10:
            other = rng.choice([d for d, _, _, r in DEPARTMENTS if r and d != home])
            dept_ids.append(other)
        people.append(
            Employee(
                job_number=job_number,
                name=_name(rng),
                email=f"{job_number.lower()}@xingchen.example",
                role=role,
                dept_ids=dept_ids,
                userid=f"{rng.getrandbits(48):012x}",
                unionid=f"un{rng.getrandbits(64):016x}",
                title=TITLES[role],
                hired_date=as_of - timedelta(days=rng.randint(200, 3000)),
                leader=home not in led,
            )
        )
        led.add(home)
    return people


def _crm_users(rng: random.Random, people: list[Employee], as_of: date) -> list[CrmUser]:
    users: list[CrmUser] = []
    base = datetime.combine(as_of - timedelta(days=400), time(9), tzinfo=SHANGHAI)
    sales_seen = 0
    for person in people:
        if person.role not in ("sales", "customer_ops"):
            continue
        person.crm_user_id = f"U{1000 + len(users) + 1}"
        without_number = False
        if person.role == "sales":
            sales_seen += 1
            # Some CRM accounts were created without the job number: matched by e-mail.
            without_number = sales_seen % 8 == 3
        users.append(
            CrmUser(
                id=person.crm_user_id,
                name=person.name,
                email=person.email,
                employee_no=None if without_number else person.job_number,
                updated_at=base + timedelta(minutes=len(users)),
                job_number=person.job_number,
            )
        )
    users.append(
        CrmUser(
            id=INTEGRATION_USER,
            name="系统集成账号",
            email="integration@crm.xingchen.example",
            employee_no=None,
            updated_at=base,
            job_number=None,
        )
    )
    return users


def _sign_time(rng: random.Random, year: int, month: int, last_day: int) -> datetime:
    if rng.random() < 0.06:
        # Signed just after local midnight on the 1st: in UTC it is still the previous month.
        return datetime(year, month, 1, rng.randint(0, 1), rng.randint(0, 59), tzinfo=SHANGHAI)
    day = rng.randint(1, last_day)
    return datetime(
        year,
        month,
        day,
        rng.randint(8, 21),
        rng.randint(0, 59),
        rng.randint(0, 59),
        tzinfo=SHANGHAI,
    )


def _orders(rng: random.Random, people: list[Employee], as_of: date) -> list[Order]:
    orders: list[Order] = []
    end = datetime.combine(as_of, time(23, 59, 59), tzinfo=SHANGHAI)
    sellers = [p for p in people if p.role == "sales"]
    for back in range(HISTORY_MONTHS, -1, -1):
        year, month = shift_month(as_of.year, as_of.month, -back)
        last_day = calendar.monthrange(year, month)[1] if back else as_of.day
        for seller in sellers:
            for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6))):
                signed = _sign_time(rng, year, month, last_day)
                if signed > end:
                    continue
                amount = Decimal(rng.randint(500_000, 20_000_000)) / 100
                rendering = rng.choice(("Z", "+00:00")) if rng.random() < 0.10 else None
                status, updated = "signed", signed + timedelta(minutes=rng.randint(1, 90))
                roll = rng.random()
                if roll < 0.05:
                    cancelled = signed + timedelta(hours=rng.randint(2, 72))
                    month_end = month_start(*shift_month(year, month, 1)) - timedelta(seconds=1)
                    if cancelled <= min(month_end, end):
                        status, updated = "cancelled", cancelled
                elif roll < 0.08:
                    later = month_start(*shift_month(year, month, 1)) + timedelta(
                        days=rng.randint(0, 9), hours=rng.randint(9, 18)
                    )
                    if later <= end:
                        status, updated = "cancelled", later
                orders.append(
                    Order(
                        id=f"SO-{len(orders) + 1:06d}",
                        customer_id=f"C{rng.randint(1, max(10, len(sellers) * 20)):05d}",
                        owner_id=seller.crm_user_id or "",
                        amount=amount,
                        signed_at=signed,
                        utc_rendering=rendering,
                        status=status,
                        updated_at=min(updated, end),
                    )
                )
        # A legacy order still owned by the CRM's integration account: no person can be found
        # for it, so the hub must quarantine it rather than guess.
        signed = _sign_time(rng, year, month, last_day)
        if signed <= end:
            orders.append(
                Order(
                    id=f"SO-{len(orders) + 1:06d}",
                    customer_id=f"C{rng.randint(1, 99):05d}",
                    owner_id=INTEGRATION_USER,
                    amount=Decimal(rng.randint(100_000, 1_000_000)) / 100,
                    signed_at=signed,
                    utc_rendering=None,
                    status="signed",
                    updated_at=signed + timedelta(minutes=5),
                )
            )
    return orders


def generate_world(seed: int = 42, employees: int = 200, as_of: date | None = None) -> World:
    if employees < 1:
        raise ValueError("a company needs at least one employee")
    as_of = as_of or datetime.now(UTC).astimezone(SHANGHAI).date()
    rng = random.Random(f"kpihub-sandbox/{seed}/{employees}/{as_of.isoformat()}")
    people = _employees(rng, employees, as_of)
    users = _crm_users(rng, people, as_of)
    orders = _orders(rng, people, as_of)
    departments = [Department(d, n, p) for d, n, p, _ in DEPARTMENTS]
    return World(seed, employees, as_of, departments, people, users, orders)
