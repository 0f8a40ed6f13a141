"""The CRM's records: users, customers, orders, leads and surveys, month by month.

Orders carry the messy cases the hub must handle: signing times rendered in UTC (every month has
at least one that falls in the previous month in UTC), cancellations in the same month and after
the month closed, a legacy order owned by an integration account, and one huge order (a planted
spike).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sandbox.clock import SHANGHAI, days_of, month_start, period_of, rng_for, shift_month
from sandbox.company import Company

INTEGRATION_USER = "U0999"
SPIKE_AMOUNT = Decimal("6800000.00")


@dataclass
class CrmUser:
    id: str
    name: str
    email: str
    employee_no: str | None
    updated_at: datetime
    job_number: str | None


@dataclass
class Customer:
    id: str
    owner_id: str
    created_at: datetime
    first_order_at: datetime | None = None
    first_order_owner: str | None = None
    updated_at: datetime | None = None


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
        return period_of(self.signed_at)


@dataclass
class Lead:
    id: str
    owner_id: str
    created_at: datetime
    status: str
    converted_order_id: str | None
    converted_at: datetime | None
    updated_at: datetime


@dataclass
class Survey:
    id: str
    order_id: str
    owner_id: str
    score: int
    submitted_at: datetime


@dataclass
class CrmData:
    users: list[CrmUser]
    customers: list[Customer]
    orders: list[Order]
    leads: list[Lead]
    surveys: list[Survey]
    spike_order: str | None = None
    user_job: dict[str, str] = field(default_factory=dict)


def _users(company: Company, anchor: date) -> list[CrmUser]:
    users: list[CrmUser] = []
    base = datetime.combine(anchor - timedelta(days=400), time(9), tzinfo=SHANGHAI)
    sales_seen = 0
    for person in company.employees:
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


class IdSequence:
    """Record ids per kind and month (``SO-202610-00012``): stable whatever else is generated."""

    def __init__(self, period: str) -> None:
        self.month = period.replace("-", "")
        self.count = 0

    def __call__(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.month}-{self.count:05d}"


def _sign_time(rng: random.Random, day: date) -> datetime:
    if day.day == 1 and rng.random() < 0.3:
        # Signed just after local midnight on the 1st: in UTC it is still the previous month.
        return datetime(
            day.year, day.month, 1, rng.randint(0, 1), rng.randint(0, 59), tzinfo=SHANGHAI
        )
    return datetime.combine(
        day, time(rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59)), tzinfo=SHANGHAI
    )


def generate_crm(
    seed: int, size: int, company: Company, periods: list[str], as_of: date, spike_period: str
) -> CrmData:
    """Every CRM record up to the end of ``as_of``; ``periods`` are the months, oldest first."""
    anchor = date(int(periods[-1][:4]), int(periods[-1][5:]), 1)
    users = _users(company, anchor)
    end = datetime.combine(as_of, time(23, 59, 59), tzinfo=SHANGHAI)
    sellers = [p for p in company.employees if p.role == "sales"]
    carers = [u.id for u in users if u.job_number and u.id not in {s.crm_user_id for s in sellers}]
    carers = carers or [u.id for u in users if u.job_number]
    rng = rng_for(seed, size, "customers")
    history_start = month_start(int(periods[0][:4]), int(periods[0][5:]))
    customers: list[Customer] = []
    for n in range(max(10, len(sellers) * 8)):
        created = history_start - timedelta(days=rng.randint(30, 900), hours=rng.randint(0, 9))
        customers.append(
            Customer(
                id=f"C{n + 1:05d}",
                owner_id=carers[n % len(carers)],
                created_at=created,
                first_order_at=created + timedelta(days=rng.randint(1, 20)),
                first_order_owner=None,
                updated_at=created,
            )
        )
    orders: list[Order] = []
    leads: list[Lead] = []
    surveys: list[Survey] = []
    spike_order: str | None = None
    for period in periods:
        rng = rng_for(seed, size, "orders", period)
        year, month = int(period[:4]), int(period[5:])
        month_end = month_start(*shift_month(year, month, 1)) - timedelta(seconds=1)
        days = days_of(period, as_of)
        next_id = IdSequence(period)
        month_orders: list[Order] = []
        # Customers who had ordered before this month: the ones who can buy again.
        returning = list(customers)
        for seller in sellers:
            for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6))):
                signed = _sign_time(rng, rng.choice(days))
                if signed > end:
                    continue
                if rng.random() < 0.25:
                    created = signed - timedelta(days=rng.randint(1, 20))
                    customer = Customer(
                        id=f"C{len(customers) + 1:05d}",
                        owner_id=carers[len(customers) % len(carers)],
                        created_at=created,
                        first_order_at=signed,
                        first_order_owner=seller.crm_user_id,
                        updated_at=signed,
                    )
                    customers.append(customer)
                else:
                    customer = rng.choice(returning)
                amount = Decimal(rng.randint(500_000, 20_000_000)) / 100
                rendering = rng.choice(("Z", "+00:00")) if rng.random() < 0.10 else None
                status, updated = "signed", signed + timedelta(minutes=rng.randint(1, 90))
                roll = rng.random()
                if roll < 0.05:
                    cancelled = signed + timedelta(hours=rng.randint(2, 72))
                    if cancelled <= min(month_end, end):
                        status, updated = "cancelled", cancelled
                elif roll < 0.08:
                    later = month_end + timedelta(
                        seconds=1, days=rng.randint(0, 9), hours=rng.randint(9, 18)
                    )
                    if later <= end:
                        status, updated = "cancelled", later
                month_orders.append(
                    Order(
                        id=next_id("SO"),
                        customer_id=customer.id,
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
        signed = _sign_time(rng, rng.choice(days))
        if signed <= end:
            month_orders.append(
                Order(
                    id=next_id("SO"),
                    customer_id=customers[0].id,
                    owner_id=INTEGRATION_USER,
                    amount=Decimal(rng.randint(100_000, 1_000_000)) / 100,
                    signed_at=signed,
                    utc_rendering=None,
                    status="signed",
                    updated_at=signed + timedelta(minutes=5),
                )
            )
        if period == spike_period and sellers:
            spiker = sellers[len(sellers) // 2]
            signed = _sign_time(rng, days[min(len(days) - 1, 17)])
            spike = Order(
                id=next_id("SO"),
                customer_id=customers[-1].id,
                owner_id=spiker.crm_user_id or "",
                amount=SPIKE_AMOUNT,
                signed_at=signed,
                utc_rendering=None,
                status="signed",
                updated_at=signed + timedelta(minutes=30),
            )
            month_orders.append(spike)
            spike_order = spike.id
        _ensure_utc_boundary(rng_for(seed, size, "utc-boundary", period), month_orders, customers)
        orders.extend(month_orders)
        leads.extend(_leads(rng, carers, days, month_orders, end, next_id))
        surveys.extend(_surveys(rng, month_orders, customers, end, next_id))
    return CrmData(
        users=users,
        customers=customers,
        orders=orders,
        leads=leads,
        surveys=surveys,
        spike_order=spike_order,
        user_job={u.id: u.job_number for u in users if u.job_number},
    )


def _crosses_month_in_utc(order: Order) -> bool:
    return order.utc_rendering is not None and order.signed_at.day == 1 and order.signed_at.hour < 8


def _ensure_utc_boundary(
    rng: random.Random, orders: list[Order], customers: list[Customer]
) -> None:
    """Make sure every month has a signed order whose UTC rendering still reads as the previous
    month, so a hub that assigns periods before converting to Asia/Shanghai is always caught.

    The order moved is signed after the 1st and is not a customer's first order, so moving it to
    the small hours of the 1st keeps it before its update and every derived record consistent.
    """
    if any(_crosses_month_in_utc(o) for o in orders):
        return
    firsts = {(c.id, c.first_order_at) for c in customers if c.first_order_owner}
    candidates = [
        o
        for o in orders
        if o.status == "signed"
        and o.owner_id != INTEGRATION_USER
        and o.amount != SPIKE_AMOUNT
        and o.signed_at.day > 1
        and (o.customer_id, o.signed_at) not in firsts
    ]
    if not candidates:
        return
    order = rng.choice(candidates)
    start = order.signed_at.replace(day=1, hour=0, minute=0, second=0)
    order.signed_at = start + timedelta(seconds=rng.randint(0, 8 * 3600 - 1))
    order.utc_rendering = rng.choice(("Z", "+00:00"))


def _leads(
    rng: random.Random,
    carers: list[str],
    days: list[date],
    orders: list[Order],
    end: datetime,
    next_id: IdSequence,
) -> list[Lead]:
    leads: list[Lead] = []
    signed = sorted(
        (o for o in orders if o.owner_id != INTEGRATION_USER), key=lambda o: o.signed_at
    )
    times = [o.signed_at for o in signed]
    for owner in carers:
        for _ in range(rng.randint(4, 12)):
            created = datetime.combine(
                rng.choice(days), time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=SHANGHAI
            )
            if created > end:
                continue
            roll = rng.random()
            later = signed[bisect.bisect_right(times, created) :][:10]
            if roll < 0.35 and later:
                order = rng.choice(later)
                leads.append(
                    Lead(next_id("LD"), owner, created, "converted", order.id, order.signed_at,
                         order.signed_at)
                )  # fmt: skip
                continue
            status = "lost" if roll < 0.55 else ("qualified" if roll < 0.8 else "new")
            touched = min(created + timedelta(days=rng.randint(0, 5)), end)
            leads.append(Lead(next_id("LD"), owner, created, status, None, None, touched))
    return leads


def _surveys(
    rng: random.Random,
    orders: list[Order],
    customers: list[Customer],
    end: datetime,
    next_id: IdSequence,
) -> list[Survey]:
    owners = {c.id: c.owner_id for c in customers}
    surveys: list[Survey] = []
    for order in orders:
        if order.status != "signed" or order.owner_id == INTEGRATION_USER:
            continue
        for owner in (order.owner_id, owners.get(order.customer_id)):
            if owner is None or rng.random() > 0.6:
                continue
            submitted = order.signed_at + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 8))
            if submitted > end:
                continue
            score = rng.choices((1, 2, 3, 4, 5), weights=(2, 4, 14, 40, 40))[0]
            surveys.append(Survey(next_id("SV"), order.id, owner, score, submitted))
    return surveys


def plant_spike(
    rng: random.Random, crm: CrmData, seller_id: str, period: str, as_of: date, number: int
) -> Order | None:
    """Add one huge signed order for ``seller_id`` in ``period`` (a planted spike), to a customer
    who already buys from that seller (or from anyone) that month, so the customer's first
    order, the carers' repurchase sets and the surveys stay what the generator made."""
    month = [
        o
        for o in crm.orders
        if o.period == period and o.status == "signed" and o.owner_id != INTEGRATION_USER
    ]
    own = [o for o in month if o.owner_id == seller_id]
    pool = own or month
    if not pool:
        return None
    customer_id = rng.choice(pool).customer_id
    days = days_of(period, as_of)
    signed = datetime.combine(
        rng.choice(days[1:] or days), time(rng.randint(9, 18), rng.randint(0, 59)), tzinfo=SHANGHAI
    )
    order = Order(
        id=f"SO-{period.replace('-', '')}-{90000 + number:05d}",
        customer_id=customer_id,
        owner_id=seller_id,
        amount=Decimal(rng.randint(50, 90)) * 100_000,
        signed_at=signed,
        utc_rendering=None,
        status="signed",
        updated_at=signed + timedelta(minutes=30),
    )
    crm.orders.append(order)
    return order


FLOOD_SURVEYS = 40


def plant_survey_flood(
    rng: random.Random, crm: CrmData, period: str, as_of: date
) -> tuple[str, str, date] | None:
    """One customer submits ``FLOOD_SURVEYS`` one-star surveys on one day to the carer who owns
    them (a planted flood); returns (customer id, carer's user id, day)."""
    owners = {c.id: c.owner_id for c in crm.customers}
    days = days_of(period, as_of)
    month = [
        o
        for o in crm.orders
        if o.period == period
        and o.status == "signed"
        and o.owner_id != INTEGRATION_USER
        and owners.get(o.customer_id) in crm.user_job
        and len(days) > 3
        and o.signed_at.date() < days[-3]
    ]
    if not month:
        return None
    order = rng.choice(month)
    carer = owners[order.customer_id]
    # After the order was signed, and within the month: a survey answers a signed order.
    day = rng.choice([d for d in days if d > order.signed_at.date()])
    start = datetime.combine(day, time(9), tzinfo=SHANGHAI)
    for n in range(FLOOD_SURVEYS):
        submitted = start + timedelta(minutes=7 * n + rng.randint(0, 6))
        survey_id = f"SV-{period.replace('-', '')}-{90000 + n + 1:05d}"
        crm.surveys.append(Survey(survey_id, order.id, carer, 1, submitted))
    return order.customer_id, carer, day
