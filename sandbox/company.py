"""The people of the simulated company and their ids in every system.

Messy on purpose, as real companies are: some people sit in two DingTalk departments, a worker
leaves in the middle of a month, another is hired in the middle of it and inherits a badge that
belonged to a colleague until that day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sandbox.clock import rng_for, shift_month

COMPANY = "星辰制造有限公司"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭"
    "宁龙林欣佳雪婷倩琳晨阳博文轩怡梓涵子豪瑞嘉思雨"
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
LINES = {231: "L1", 232: "L2"}
ROLE_SHARES = (("sales", 0.30), ("customer_ops", 0.10), ("production", 0.40), ("rnd", 0.12))
TITLES = {
    "sales": "销售代表",
    "customer_ops": "客户运营专员",
    "production": "操作工",
    "rnd": "研发工程师",
    "admin": "行政专员",
}


@dataclass(frozen=True)
class BadgeAssignment:
    """Who carried a badge and a card when: the QMS and the terminals know only the badge/card."""

    job_number: str
    badge: str | None
    card_no: str
    begin: date
    end: date | None


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
    left_date: date | None = None
    crm_user_id: str | None = None
    badges: list[BadgeAssignment] = field(default_factory=list)

    @property
    def home_dept(self) -> int:
        return self.dept_ids[0]

    @property
    def line(self) -> str | None:
        return LINES.get(self.home_dept)

    @property
    def uses_terminals(self) -> bool:
        return self.role == "production"

    def employed_on(self, day: date) -> bool:
        return self.hired_date <= day and (self.left_date is None or day < self.left_date)

    def badge_on(self, day: date) -> BadgeAssignment | None:
        for assignment in self.badges:
            if assignment.begin <= day and (assignment.end is None or day < assignment.end):
                return assignment
        return None

    @property
    def current(self) -> BadgeAssignment:
        return self.badges[-1]


@dataclass
class Company:
    departments: list[Department]
    employees: list[Employee]
    leaver: str | None
    new_hire: str | None
    badge_donor: str | None

    def by_job_number(self) -> dict[str, Employee]:
        return {e.job_number: e for e in self.employees}

    def role(self, role: str) -> list[Employee]:
        return [e for e in self.employees if e.role == role]


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


def generate_company(seed: int, size: int, anchor: date) -> Company:
    """``anchor`` is the first day of the current month; history runs six months before it."""
    rng = rng_for(seed, size, "company")
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
            dept_ids.append(rng.choice([d for d, _, _, r in DEPARTMENTS if r and d != home]))
        person = Employee(
            job_number=job_number,
            name=_name(rng),
            email=f"{job_number.lower()}@xingchen.example",
            role=role,
            dept_ids=dept_ids,
            userid=f"{rng.getrandbits(48):012x}",
            unionid=f"un{rng.getrandbits(64):016x}",
            title=TITLES[role],
            hired_date=anchor - timedelta(days=rng.randint(400, 3000)),
            leader=home not in led,
        )
        badge = f"BG{index:05d}" if role == "production" else None
        person.badges = [
            BadgeAssignment(job_number, badge, f"{9000000 + index}", person.hired_date, None)
        ]
        people.append(person)
        led.add(home)
    company = Company(
        departments=[Department(d, n, p) for d, n, p, _ in DEPARTMENTS],
        employees=people,
        leaver=None,
        new_hire=None,
        badge_donor=None,
    )
    _plant_movements(company, anchor)
    return company


def _plant_movements(company: Company, anchor: date) -> None:
    """A leaver and a new hire in the last closed month; the new hire inherits a badge."""
    workers = [e for e in company.employees if e.role == "production" and not e.leader]
    if len(workers) < 4:
        return
    year, month = shift_month(anchor.year, anchor.month, -1)
    last_closed = date(year, month, 1)
    leaver = workers[-1]
    leaver.left_date = last_closed + timedelta(days=14)
    donor = workers[0]
    handover = last_closed + timedelta(days=9)
    old = donor.badges[0]
    donor.badges = [
        BadgeAssignment(donor.job_number, old.badge, old.card_no, old.begin, handover),
        BadgeAssignment(donor.job_number, f"{old.badge}N", old.card_no, handover, None),
    ]
    new_hire = workers[-2]
    new_hire.hired_date = handover
    new_hire.badges = [
        BadgeAssignment(new_hire.job_number, old.badge, new_hire.current.card_no, handover, None)
    ]
    company.leaver = leaver.job_number
    company.new_hire = new_hire.job_number
    company.badge_donor = donor.job_number
