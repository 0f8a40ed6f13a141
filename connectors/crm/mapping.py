"""CRM raw records -> KPI facts keyed by CRM user id.

contract_amount: the sum of orders whose current status is ``signed`` and whose ``signed_at``
falls in the period in Asia/Shanghai. Every CRM user gets a fact, zero included, so a salesperson
with no orders is scored as zero rather than missing. Cancelled orders are left out; when an order
is cancelled after its month, the fact changes and its lineage shows the new order version.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from connectors.registry import (
    FactMapping,
    HeadRecord,
    MappingResult,
    PersonLink,
    RecordReader,
)
from connectors.sdk.timeparse import local_period
from schemas.facts import Observation, PersonRef, QuarantinedRecord

SYSTEM = "crm"


def _bad_order(head: HeadRecord, period: str, reason: str, detail: str) -> QuarantinedRecord:
    return QuarantinedRecord(
        SYSTEM, "orders", head.record_key, head.version_id, period, reason, detail
    )


def contract_amounts(period: str, records: RecordReader) -> MappingResult:
    observations: list[Observation] = []
    quarantined: list[QuarantinedRecord] = []
    for head in records.heads("orders"):
        order = head.payload
        if order.get("is_deleted") or order.get("status") != "signed":
            continue
        try:
            if local_period(order["signed_at"]) != period:
                continue
        except (KeyError, TypeError, ValueError):
            detail = f"signed_at {order.get('signed_at')!r} is not an ISO 8601 time stamp"
            quarantined.append(_bad_order(head, period, "bad_timestamp", detail))
            continue
        try:
            amount = Decimal(str(order["amount"]))
        except (KeyError, InvalidOperation):
            detail = f"amount {order.get('amount')!r} is not a decimal"
            quarantined.append(_bad_order(head, period, "bad_amount", detail))
            continue
        if order.get("currency", "CNY") != "CNY":
            detail = f"currency {order.get('currency')!r} is not CNY"
            quarantined.append(_bad_order(head, period, "unsupported_currency", detail))
            continue
        owner = PersonRef(SYSTEM, str(order.get("owner_id") or ""))
        observations.append(
            Observation(owner, "contract_amount", amount, inputs=(head.version_id,))
        )
    # Every CRM user is measured, so a salesperson without orders scores zero, not missing.
    observations.extend(
        Observation(PersonRef(SYSTEM, h.record_key), "contract_amount", Decimal(0))
        for h in records.heads("users")
        if not h.payload.get("is_deleted")
    )
    return MappingResult(observations=observations, quarantined=quarantined)


def person_links(records: RecordReader) -> Iterator[PersonLink]:
    """CRM users carry ``employee_no`` (the job number) or, for some, only an e-mail address."""
    for head in records.heads("users"):
        user = head.payload
        if user.get("is_deleted"):
            continue
        yield PersonLink(
            person=PersonRef(SYSTEM, head.record_key),
            job_number=(str(user["employee_no"]).strip() or None)
            if user.get("employee_no")
            else None,
            email=user.get("email") or None,
            version_id=head.version_id,
        )


MAPPING = FactMapping(
    kpi_codes=("contract_amount",), streams=("orders", "users"), run=contract_amounts
)
