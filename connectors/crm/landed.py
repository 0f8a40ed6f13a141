"""Landed CRM records read once per run and shared by every CRM KPI, so an unreadable record is
quarantined once, whatever number of KPIs it would have fed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.registry import HeadRecord, RecordReader
from connectors.sdk.timeparse import parse_instant
from schemas import periods
from schemas.facts import PersonRef, QuarantinedRecord

SYSTEM = "crm"


def crm_person(user_id: object) -> PersonRef:
    """A CRM user id as the core resolves it; a missing id stays empty and is quarantined there."""
    return PersonRef(SYSTEM, str(user_id or ""))


def quarantine(
    stream: str, head: HeadRecord, period: str, reason: str, detail: str
) -> QuarantinedRecord:
    return QuarantinedRecord(
        SYSTEM, stream, head.record_key, head.version_id, period, reason, detail
    )


def instant(payload: dict[str, Any], name: str) -> datetime:
    """The aware instant in field ``name``; ValueError names the field when it cannot be read."""
    value = payload.get(name)
    try:
        return parse_instant(value)
    except (AttributeError, TypeError, ValueError):
        raise ValueError(f"{name} {value!r} is not an ISO 8601 time stamp") from None


def month_start(period: str) -> datetime:
    """The first instant of ``period`` in Asia/Shanghai."""
    return periods.period_start(period)


def next_month_start(period: str) -> datetime:
    """The first instant after ``period`` in Asia/Shanghai."""
    return periods.period_end(period)


def in_period(moment: datetime, period: str) -> bool:
    return month_start(period) <= moment < next_month_start(period)


@dataclass(frozen=True)
class LandedOrder:
    """An order that is not deleted. ``signed_at`` is None when it cannot be read: such an order
    can still be named by a lead or a customer, but never matched on its signing time."""

    head: HeadRecord
    customer_id: str
    owner_id: str
    status: str
    signed_at: datetime | None

    @property
    def version_id(self) -> int:
        return self.head.version_id


@dataclass(frozen=True)
class LandedCustomer:
    """A customer that is not deleted; ``first_order_at`` is None when it has never ordered."""

    head: HeadRecord
    owner_id: str
    first_order_at: datetime | None

    @property
    def version_id(self) -> int:
        return self.head.version_id


def read_orders(records: RecordReader) -> list[LandedOrder]:
    """Every order of every month, cancelled included: a customer's first order and a lead's
    conversion name an order whatever became of it later. Deleted orders are gone."""
    orders: list[LandedOrder] = []
    for head in records.heads("orders"):
        order = head.payload
        if order.get("is_deleted"):
            continue
        try:
            signed_at: datetime | None = instant(order, "signed_at")
        except ValueError:
            signed_at = None
        orders.append(
            LandedOrder(
                head=head,
                customer_id=str(order.get("customer_id") or ""),
                owner_id=str(order.get("owner_id") or ""),
                status=str(order.get("status") or ""),
                signed_at=signed_at,
            )
        )
    return orders


def read_customers(
    period: str, records: RecordReader
) -> tuple[dict[str, LandedCustomer], list[QuarantinedRecord]]:
    """Customers by id. One whose ``first_order_at`` cannot be read is quarantined in every
    period, since which month it would count in is unknown."""
    customers: dict[str, LandedCustomer] = {}
    quarantined: list[QuarantinedRecord] = []
    for head in records.heads("customers"):
        customer = head.payload
        if customer.get("is_deleted"):
            continue
        first_order_at: datetime | None = None
        if customer.get("first_order_at") is not None:
            try:
                first_order_at = instant(customer, "first_order_at")
            except ValueError as error:
                quarantined.append(
                    quarantine("customers", head, period, "bad_timestamp", str(error))
                )
                continue
        customers[head.record_key] = LandedCustomer(
            head=head, owner_id=str(customer.get("owner_id") or ""), first_order_at=first_order_at
        )
    return customers, quarantined
