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
