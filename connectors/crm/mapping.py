"""CRM raw records -> KPI facts keyed by CRM user id (ERP job numbers for who is measured).

- contract_amount: signed orders by signing month, per order owner; every CRM user measured.
- new_customers: customers whose first order falls in the month, per that order's owner; every
  holder of an ERP new_customers target for the month measured.
- lead_conversion_rate: leads created in the month and converted by its end, per lead owner.
- repurchase_rate: customers buying in the month who had bought before, per customer owner.
- customer_satisfaction: mean score of the surveys submitted in the month, per survey owner.

Months are chosen in Asia/Shanghai. Orders and customers are read once for all five KPIs, so a
record that cannot be read is quarantined once. The rules live in ``orders``, ``customers``,
``leads`` and ``surveys``.
"""

from __future__ import annotations

from collections.abc import Iterator

from connectors.crm.customers import TARGETS, new_customers, repurchases
from connectors.crm.landed import SYSTEM, read_customers, read_orders
from connectors.crm.leads import lead_conversions
from connectors.crm.orders import contract_amounts, signed_orders
from connectors.crm.surveys import satisfaction
from connectors.registry import FactMapping, MappingResult, PersonLink, RecordReader
from schemas.facts import PersonRef


def crm_facts(period: str, records: RecordReader) -> MappingResult:
    orders = read_orders(records)
    customers, quarantined = read_customers(period, records)
    counted, unreadable_orders = signed_orders(period, orders)
    quarantined.extend(unreadable_orders)
    observations = contract_amounts(counted, records)
    won, unplaced = new_customers(period, customers, orders, records)
    observations.extend(won)
    quarantined.extend(unplaced)
    observations.extend(repurchases(period, customers, counted))
    for found, unreadable in (
        lead_conversions(period, records, orders),
        satisfaction(period, records),
    ):
        observations.extend(found)
        quarantined.extend(unreadable)
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
    kpi_codes=(
        "contract_amount",
        "new_customers",
        "lead_conversion_rate",
        "repurchase_rate",
        "customer_satisfaction",
    ),
    streams=("orders", "users", "customers", "leads", "surveys"),
    run=crm_facts,
    reads=(TARGETS,),
)
