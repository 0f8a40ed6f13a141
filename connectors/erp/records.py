"""Declared shapes of ERP rows as the ODBC engine delivers them: what later mappings rely on.

Amounts and quantities are exact decimal strings at the column's scale (``"12345.60"``), times
are naive Asia/Shanghai ISO strings (``"2026-03-02T17:59:00"``). Extra columns pass through.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

DecimalText = Annotated[str, StringConstraints(pattern=r"^-?\d+(\.\d+)?$")]
LocalTime = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")]
Period = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]


class ErpRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    FMODIFYDATE: LocalTime


class Employee(ErpRecord):
    """HR_EMP: the employee master; ``FEMPNO`` is the job number."""

    FEMPNO: str
    FNAME: str
    FDEPTNAME: str | None = None
    FBADGE: str | None = None
    FCARDNO: str | None = None
    FSTATUS: str


class BadgeAssignment(ErpRecord):
    """HR_EMP_BADGE: who held a badge and a card from ``FBEGINDATE`` until ``FENDDATE`` (the first
    day no longer held; empty while held). HR_EMP shows only the current holder."""

    FID: int
    FEMPNO: str
    FBADGE: str | None = None
    FCARDNO: str | None = None
    FBEGINDATE: LocalTime
    FENDDATE: LocalTime | None = None


class Receipt(ErpRecord):
    """AR_RECEIPT: a collection (回款); only approved ones (``FDOCUMENTSTATUS = 'C'``) count."""

    FID: int
    FBILLNO: str
    FSALERNO: str
    FRECAMOUNT: DecimalText
    FDATE: LocalTime
    FDOCUMENTSTATUS: str


class Target(ErpRecord):
    """SAL_TARGET: one person's target for one KPI in one period."""

    FEMPNO: str
    FPERIOD: Period
    FKPI: str
    FTARGET: DecimalText


class ProductionReceipt(ErpRecord):
    """PRD_INSTOCK: a production receipt (产量); only approved ones count."""

    FID: int
    FEMPNO: str
    FMATERIAL: str
    FQTY: DecimalText
    FDATE: LocalTime
    FDOCUMENTSTATUS: str


class CostLine(ErpRecord):
    """CB_COST: a cost centre's target and actual cost for a period, with its manager."""

    FCOSTCENTER: str
    FMANAGERNO: str
    FPERIOD: Period
    FTARGETCOST: DecimalText
    FACTUALCOST: DecimalText
