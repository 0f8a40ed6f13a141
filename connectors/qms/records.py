"""Declared shape of a QMS inspection: what the yield KPIs rely on. Extra fields pass through."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Inspection(BaseModel):
    model_config = ConfigDict(extra="allow")

    inspection_id: str
    batch_no: str
    stage: str
    operator_badge: str
    line: str
    inspected_qty: int
    qualified_qty: int
    defect_codes: list[str]
    inspected_at: str
