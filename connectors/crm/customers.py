"""Customer KPIs: new_customers for the salesperson who won the customer, repurchase_rate for the
carer (the customer's owner) who keeps them buying.

The CRM customer record says when the first order was signed (``first_order_at``) but not by
whom: its ``owner_id`` is the carer, not the salesperson. The first order is the customer's order
signed at exactly that instant, and its owner is the salesperson credited. The customer's record
is what makes them new, so a first order cancelled later still names who won the customer.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from connectors.crm.landed import (
    LandedCustomer,
    LandedOrder,
    crm_person,
    in_period,
    month_start,
    quarantine,
)
from connectors.crm.orders import SignedOrder
from connectors.registry import RecordReader
from schemas.facts import Observation, PersonRef, QuarantinedRecord

TARGETS = "erp/sal_target"
"""Who is measured on new customers: every holder of an ERP new_customers target for the month."""


def new_customers(
    period: str,
    customers: dict[str, LandedCustomer],
    orders: list[LandedOrder],
    records: RecordReader,
) -> tuple[list[Observation], list[QuarantinedRecord]]:
    """One per customer whose first order falls in the period, for that order's owner; a zero for
    every salesperson with a new_customers target, so one who won nobody scores zero."""
    by_customer: dict[str, list[LandedOrder]] = defaultdict(list)
    for order in orders:
        by_customer[order.customer_id].append(order)
    observations: list[Observation] = []
    quarantined: list[QuarantinedRecord] = []
    for customer_id, customer in sorted(customers.items()):
        first = customer.first_order_at
        if first is None or not in_period(first, period):
            continue
        firsts = [o for o in by_customer[customer_id] if o.signed_at == first]
        owners = sorted({o.owner_id for o in firsts})
        stamp = customer.head.payload.get("first_order_at")
        if not owners:
            detail = f"no order of customer {customer_id} was signed at first_order_at {stamp!r}"
            quarantined.append(
                quarantine("customers", customer.head, period, "first_order_not_found", detail)
            )
            continue
        if len(owners) > 1:
            names = ", ".join(o.head.record_key for o in firsts)
            detail = (
                f"orders {names} of owners {', '.join(owners)} were all signed at "
                f"first_order_at {stamp!r}"
            )
            quarantined.append(
                quarantine("customers", customer.head, period, "ambiguous_first_order", detail)
            )
            continue
        inputs = (customer.version_id, *sorted(o.version_id for o in firsts))
        observations.append(
            Observation(crm_person(owners[0]), "new_customers", Decimal(1), inputs=inputs)
        )
    source, stream = TARGETS.split("/")
    for head in records.heads(stream, source=source):
        target = head.payload
        job_number = str(target.get("FEMPNO") or "").strip()
        for_period = str(target.get("FPERIOD") or "").strip() == period
        if target.get("FKPI") == "new_customers" and for_period and job_number:
            observations.append(
                Observation(PersonRef("job_number", job_number), "new_customers", Decimal(0))
            )
    return observations, quarantined


def repurchases(
    period: str, customers: dict[str, LandedCustomer], counted: list[SignedOrder]
) -> list[Observation]:
    """One ratio term per customer with a signed order in the period, for the customer's owner:
    1 when the customer's first order was before the month, else 0.

    An order whose customer has not landed still counts in contract_amount; it is left out here
    rather than quarantined, since the record does become part of a fact.
    """
    start = month_start(period)
    bought: dict[str, list[int]] = defaultdict(list)
    for signed in counted:
        bought[signed.order.customer_id].append(signed.order.version_id)
    observations: list[Observation] = []
    for customer_id, order_versions in sorted(bought.items()):
        customer = customers.get(customer_id)
        if customer is None:
            continue
        first = customer.first_order_at
        returning = first is not None and first < start
        observations.append(
            Observation(
                crm_person(customer.owner_id),
                "repurchase_rate",
                Decimal(1 if returning else 0),
                weight=Decimal(1),
                inputs=(customer.version_id, *sorted(order_versions)),
            )
        )
    return observations
