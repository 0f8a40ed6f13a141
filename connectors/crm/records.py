"""Declared shapes of CRM records: what the mapping relies on. Extra fields pass through."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CrmRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    updated_at: str
    is_deleted: bool = False


class Order(CrmRecord):
    customer_id: str
    owner_id: str
    amount: str
    currency: str
    signed_at: str
    status: str


class User(CrmRecord):
    name: str
    email: str | None = None
    employee_no: str | None = None


class Lead(CrmRecord):
    owner_id: str
    created_at: str
    status: str
    converted_order_id: str | None = None


class Customer(CrmRecord):
    owner_id: str
    created_at: str
    first_order_at: str | None = None


class Survey(CrmRecord):
    """A customer-satisfaction survey; ``score`` is 1..5, as a number or a numeric string."""

    order_id: str
    owner_id: str
    score: int
    submitted_at: str
