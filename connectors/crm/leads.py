"""lead_conversion_rate: of the leads created in the month, the share converted by its end.

A lead is converted when its status is ``converted``; when it converted is when the order it
names (``converted_order_id``) was signed, so "by the month's end" means that order was signed
before the next month began in Asia/Shanghai. The lead stays converted if the order is cancelled
later: the salesperson did convert it. A lead that says it converted but names no order the hub
knows cannot be placed and is quarantined.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.crm.landed import (
    LandedOrder,
    crm_person,
    in_period,
    instant,
    next_month_start,
    quarantine,
)
from connectors.registry import RecordReader
from schemas.facts import Observation, QuarantinedRecord

KPI = "lead_conversion_rate"


def lead_conversions(
    period: str, records: RecordReader, orders: list[LandedOrder]
) -> tuple[list[Observation], list[QuarantinedRecord]]:
    """One ratio term per lead created in the period, for the lead's owner: 1 if converted by the
    month's end, else 0, each with weight 1."""
    by_id = {order.head.record_key: order for order in orders}
    end = next_month_start(period)
    observations: list[Observation] = []
    quarantined: list[QuarantinedRecord] = []
    for head in records.heads("leads"):
        lead = head.payload
        if lead.get("is_deleted"):
            continue
        try:
            created = instant(lead, "created_at")
        except ValueError as error:
            quarantined.append(quarantine("leads", head, period, "bad_timestamp", str(error)))
            continue
        if not in_period(created, period):
            continue
        owner = crm_person(lead.get("owner_id"))
        if lead.get("status") != "converted":
            observations.append(
                Observation(owner, KPI, Decimal(0), weight=Decimal(1), inputs=(head.version_id,))
            )
            continue
        order_id = lead.get("converted_order_id")
        order = by_id.get(str(order_id)) if order_id else None
        if order is None:
            detail = (
                f"status 'converted' but converted_order_id {order_id!r} names no landed order"
                " (missing or deleted)"
            )
            quarantined.append(quarantine("leads", head, period, "unknown_order", detail))
            continue
        if order.signed_at is None:
            detail = (
                f"converted order {order_id} has signed_at "
                f"{order.head.payload.get('signed_at')!r}, not an ISO 8601 time stamp"
            )
            quarantined.append(quarantine("leads", head, period, "bad_timestamp", detail))
            continue
        converted = Decimal(1 if order.signed_at < end else 0)
        inputs = (head.version_id, order.version_id)
        observations.append(Observation(owner, KPI, converted, weight=Decimal(1), inputs=inputs))
    return observations, quarantined
