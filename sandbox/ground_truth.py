"""What the generator intended: KPI values per person and period, read from the model itself."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sandbox.model import World

CENT = Decimal("0.01")


@dataclass(frozen=True)
class TruthRow:
    job_number: str
    kpi_code: str
    period: str
    value: Decimal


def truth(world: World, period: str) -> list[TruthRow]:
    """contract_amount for every employee with a CRM account: signed orders of the month."""
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for order in world.orders:
        if order.status == "signed" and order.period == period:
            amounts[order.owner_id] += order.amount
    rows = [
        TruthRow(user.job_number, "contract_amount", period, amounts[user.id].quantize(CENT))
        for user in world.crm_users
        if user.job_number is not None
    ]
    return sorted(rows, key=lambda r: (r.job_number, r.kpi_code))
