"""ERP raw records -> KPI observations keyed by job number (``FSALERNO``, ``FEMPNO`` and
``FMANAGERNO`` are all job numbers, so identity resolution only checks them against the directory).

collection_amount: approved receipts (``FDOCUMENTSTATUS = 'C'``) whose ``FDATE`` falls in the
period, summed per salesperson ``FSALERNO``. Every salesperson with a collection target for the
period is measured, so one who collected nothing scores zero rather than missing; that zero
carries the target row as its lineage, which is what says the person was a salesperson that
month. A receipt first posted to the wrong salesperson and corrected later is a new version of the
same ``FID``: only the current version is read, so the amount moves to the right person and the
wrong person's fact is restated.

output_qty: approved production receipts whose ``FDATE`` falls in the period, ``FQTY`` summed per
operator ``FEMPNO``. Only people with receipts get a fact: nobody's output is assumed.

Targets: every ``SAL_TARGET`` row of the period becomes a target fact (kind ``target``) of its
KPI for ``FEMPNO``, with the row as lineage; a row for a KPI the catalog takes no ERP target for
is quarantined rather than dropped.

cost_control: each ``CB_COST`` line of the period gives its manager ``FTARGETCOST -
FACTUALCOST`` over ``FTARGETCOST``; the catalog's ratio divides once per manager, so a manager
of two cost centres is scored on their combined costs.

Times are naive Asia/Shanghai; amounts and quantities are exact decimal strings read as Decimal.
A row that cannot be read (a date or a number that does not parse, a row without its person) is
quarantined with the column and the value; rows that do not count (not approved, another period)
are simply not part of the period.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation

from connectors.registry import FactMapping, HeadRecord, MappingResult, RecordReader
from connectors.sdk.timeparse import local_period
from schemas.facts import TARGET, Observation, PersonRef, QuarantinedRecord

SOURCE = "erp"
JOB_NUMBER = "job_number"
APPROVED = "C"
PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

RECEIPTS = "ar_receipt"
TARGETS = "sal_target"
PRODUCTION = "prd_instock"
COSTS = "cb_cost"

COLLECTION_AMOUNT = "collection_amount"
OUTPUT_QTY = "output_qty"
COST_CONTROL = "cost_control"
# The KPIs the catalog takes targets for from the ERP (``target_source: erp``).
TARGET_CODES = ("collection_amount", "contract_amount", "new_customers", "output_qty")


class Unreadable(ValueError):
    """A column of a row that cannot be read; ``reason`` and ``str()`` become the quarantine's
    reason and detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _decimal(row: dict[str, object], column: str) -> Decimal:
    """An exact decimal column; NaN and infinities are not amounts."""
    raw = row.get(column)
    try:
        if raw is None or isinstance(raw, bool):
            raise InvalidOperation
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise Unreadable("bad_value", f"{column} {raw!r} is not a decimal number") from None
    if not value.is_finite():
        raise Unreadable("bad_value", f"{column} {raw!r} is not a finite decimal number")
    return value


def _month(row: dict[str, object], column: str) -> str:
    """The Asia/Shanghai month of a time column (naive values are local)."""
    raw = row.get(column)
    try:
        if not isinstance(raw, str):
            raise TypeError
        return local_period(raw)
    except (TypeError, ValueError):
        raise Unreadable("bad_timestamp", f"{column} {raw!r} is not an ISO 8601 time") from None


def _period(row: dict[str, object], column: str) -> str:
    """A ``YYYY-MM`` period column."""
    raw = row.get(column)
    text = str(raw).strip() if raw is not None else ""
    if not PERIOD_PATTERN.match(text):
        raise Unreadable("bad_period", f"{column} {raw!r} is not a YYYY-MM period")
    return text


def dated_period(row: Mapping[str, object]) -> str | None:
    """The local month of a document's ``FDATE``, as receipts and production count it."""
    try:
        return _month(dict(row), "FDATE")
    except Unreadable:
        return None


def period_column(row: Mapping[str, object]) -> str | None:
    """The ``FPERIOD`` of a target or cost line."""
    try:
        return _period(dict(row), "FPERIOD")
    except Unreadable:
        return None


def _job_number(row: dict[str, object], column: str) -> PersonRef:
    """A job number column; an empty one names nobody and cannot be resolved or guessed."""
    text = str(row.get(column) or "").strip()
    if not text:
        raise Unreadable("missing_person", f"{column} is empty: the row names no employee")
    return PersonRef(JOB_NUMBER, text)


def _approved(row: dict[str, object]) -> bool:
    return str(row.get("FDOCUMENTSTATUS") or "").strip() == APPROVED


Reader = Callable[[HeadRecord], Iterable[Observation]]


def _read_stream(
    records: RecordReader,
    stream: str,
    period: str,
    read: Reader,
    observations: list[Observation],
    quarantined: list[QuarantinedRecord],
) -> None:
    """Every head of ``stream`` through ``read``; a row it cannot read goes to quarantine."""
    for head in records.heads(stream, period=period):
        try:
            observations.extend(read(head))
        except Unreadable as why:
            quarantined.append(
                QuarantinedRecord(
                    SOURCE, stream, head.record_key, head.version_id, period, why.reason, str(why)
                )
            )


def _dated_approved(
    head: HeadRecord, period: str, person_column: str, amount_column: str, kpi_code: str
) -> list[Observation]:
    """An approved document dated in ``period``: its amount for its person; else nothing."""
    row = head.payload
    if not _approved(row) or _month(row, "FDATE") != period:
        return []
    amount = _decimal(row, amount_column)
    person = _job_number(row, person_column)
    return [Observation(person, kpi_code, amount, inputs=(head.version_id,))]


def _cost_line(head: HeadRecord, period: str) -> list[Observation]:
    """A cost line of ``period``: the saving (target - actual) over the target cost."""
    row = head.payload
    if _period(row, "FPERIOD") != period:
        return []
    target = _decimal(row, "FTARGETCOST")
    actual = _decimal(row, "FACTUALCOST")
    if target <= 0:
        detail = f"FTARGETCOST {row.get('FTARGETCOST')!r} is not positive: no ratio to it"
        raise Unreadable("non_positive_target_cost", detail)
    manager = _job_number(row, "FMANAGERNO")
    return [
        Observation(
            manager, COST_CONTROL, target - actual, weight=target, inputs=(head.version_id,)
        )
    ]


def _targets(
    records: RecordReader, period: str, collected: set[str], quarantined: list[QuarantinedRecord]
) -> list[Observation]:
    """Each SAL_TARGET row of ``period`` as a target fact with the row as its lineage, and a
    zero collection for each salesperson with a collection target and no counted receipt: the
    target is what makes them measured."""
    found: list[Observation] = []

    def target(head: HeadRecord) -> list[Observation]:
        row = head.payload
        if _period(row, "FPERIOD") != period:
            return []
        kpi_code = str(row.get("FKPI") or "").strip()
        if kpi_code not in TARGET_CODES:
            detail = f"FKPI {row.get('FKPI')!r} is not a KPI the ERP sets targets for"
            raise Unreadable("unknown_kpi", detail)
        person = _job_number(row, "FEMPNO")
        value = _decimal(row, "FTARGET")
        inputs = (head.version_id,)
        planned = [Observation(person, kpi_code, value, inputs=inputs, kind=TARGET)]
        if kpi_code == COLLECTION_AMOUNT and person.person_id not in collected:
            planned.append(Observation(person, COLLECTION_AMOUNT, Decimal(0), inputs=inputs))
        return planned

    _read_stream(records, TARGETS, period, target, found, quarantined)
    return found


def erp_facts(period: str, records: RecordReader) -> MappingResult:
    """The period's ERP observations; receipts are read before targets so that only
    salespeople who collected nothing get a zero."""
    observations: list[Observation] = []
    quarantined: list[QuarantinedRecord] = []

    def receipt(head: HeadRecord) -> list[Observation]:
        return _dated_approved(head, period, "FSALERNO", "FRECAMOUNT", COLLECTION_AMOUNT)

    def production(head: HeadRecord) -> list[Observation]:
        return _dated_approved(head, period, "FEMPNO", "FQTY", OUTPUT_QTY)

    _read_stream(records, RECEIPTS, period, receipt, observations, quarantined)
    collected = {o.person.person_id for o in observations}
    observations.extend(_targets(records, period, collected, quarantined))
    _read_stream(records, PRODUCTION, period, production, observations, quarantined)
    _read_stream(
        records, COSTS, period, lambda head: _cost_line(head, period), observations, quarantined
    )
    return MappingResult(observations=observations, quarantined=quarantined)


MAPPING = FactMapping(
    kpi_codes=(COLLECTION_AMOUNT, OUTPUT_QTY, COST_CONTROL),
    streams=(RECEIPTS, TARGETS, PRODUCTION, COSTS),
    run=erp_facts,
    target_codes=TARGET_CODES,
)
