"""The declared shape of an evaluation record: what the mapping relies on."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Period = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
DecimalText = Annotated[str, StringConstraints(pattern=r"^-?\d+(\.\d+)?$")]


class EvaluationRecord(BaseModel):
    """One (job number, period, KPI) value and the file, hash and row its content came from.
    Columns outside the template travel under ``extra``."""

    model_config = ConfigDict(extra="allow")

    key: str
    job_number: str
    name: str | None
    period: Period
    kpi: str
    value: DecimalText
    comment: str | None
    evaluator: str | None
    file: str
    file_sha256: str
    row: int
