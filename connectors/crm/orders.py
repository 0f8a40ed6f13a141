"""Signed orders of a month: contract_amount per order owner, and the orders repurchase counts.

An order counts when its current status is ``signed`` and ``signed_at`` falls in the period in
Asia/Shanghai. Cancelled orders are left out; when an order is cancelled after its month, the
fact changes and its lineage shows the new order version. A signed order that cannot be read
(time stamp, amount, currency) is quarantined once and counts in no KPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from connectors.crm.landed import LandedOrder, crm_person, in_period, quarantine
from connectors.registry import RecordReader
from schemas.facts import Observation, QuarantinedRecord


@dataclass(frozen=True)
class SignedOrder:
    order: LandedOrder
    amount: Decimal


def signed_orders(
    period: str, orders: list[LandedOrder]
) -> tuple[list[SignedOrder], list[QuarantinedRecord]]:
    """The period's signed orders that can be counted, and the signed ones that cannot be read.
    A bad signing time is quarantined in every period: its month is unknown."""
    counted: list[SignedOrder] = []
    quarantined: list[QuarantinedRecord] = []
    for order in orders:
        if order.status != "signed":
            continue
        payload = order.head.payload
        if order.signed_at is None:
            detail = f"signed_at {payload.get('signed_at')!r} is not an ISO 8601 time stamp"
            quarantined.append(quarantine("orders", order.head, period, "bad_timestamp", detail))
            continue
        if not in_period(order.signed_at, period):
            continue
        try:
            amount = Decimal(str(payload["amount"]))
        except (KeyError, InvalidOperation):
            amount = Decimal("NaN")
        if not amount.is_finite():
            detail = f"amount {payload.get('amount')!r} is not a decimal"
            quarantined.append(quarantine("orders", order.head, period, "bad_amount", detail))
            continue
        if payload.get("currency", "CNY") != "CNY":
            detail = f"currency {payload.get('currency')!r} is not CNY"
            quarantined.append(
                quarantine("orders", order.head, period, "unsupported_currency", detail)
            )
            continue
        counted.append(SignedOrder(order, amount))
    return counted, quarantined


def contract_amounts(counted: list[SignedOrder], records: RecordReader) -> list[Observation]:
    """Each signed order's amount for its owner, and a zero for every CRM user, so a
    salesperson without orders is scored as zero rather than missing."""
    observations = [
        Observation(
            crm_person(signed.order.owner_id),
            "contract_amount",
            signed.amount,
            inputs=(signed.order.version_id,),
        )
        for signed in counted
    ]
    observations.extend(
        Observation(crm_person(head.record_key), "contract_amount", Decimal(0))
        for head in records.heads("users")
        if not head.payload.get("is_deleted")
    )
    return observations
