"""The expectation suite of one source's facts, built from the KPI catalog.

Ranges follow the unit a KPI is stored in (the catalog stores rates as percent, ``x 100%``), so a
new KPI is checked as soon as it is catalogued. The few KPIs whose range differs from their unit's
are named in ``RANGE_BY_CODE``, with the reason next to them.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from quality.expectations import Expectation
from schemas.catalog import Catalog

VALUES_IN_RANGE = "values_in_range"
KEYS_UNIQUE = "keys_unique"
JOB_NUMBER_PRESENT = "job_number_present"
HAS_FACTS = "has_facts"
CHECKS = (VALUES_IN_RANGE, KEYS_UNIQUE, JOB_NUMBER_PRESENT, HAS_FACTS)

FACT_COLUMNS = ("job_number", "kpi_code", "kind", "value", "unit")
FACT_KEY = ("job_number", "kpi_code", "kind")
"""A fact is one value per job number, KPI and kind (actual or target) in its period."""

Range = tuple[Decimal | None, Decimal | None]
RANGE_BY_UNIT: dict[str, Range] = {
    "%": (Decimal(0), Decimal(100)),
    "score": (Decimal(1), Decimal(5)),  # survey scores are 1 to 5
    "points": (Decimal(0), Decimal(100)),  # evaluation forms score 0 to 100
    "CNY": (Decimal(0), None),
    "count": (Decimal(0), None),
    "pcs": (Decimal(0), None),
    "days": (Decimal(0), None),
}
RANGE_BY_CODE: dict[str, Range] = {
    # A project ahead of plan is rated above 100; the review board's form stops at 120.
    "project_progress_rate": (Decimal(0), Decimal(120)),
    # A cost centre over budget has a negative margin; beyond double the budget is a typo.
    "cost_control": (Decimal(-100), Decimal(100)),
}

DESCRIPTIONS = {
    VALUES_IN_RANGE: "Every fact's value lies within the range its KPI's unit allows.",
    KEYS_UNIQUE: "One current fact per job number, KPI and kind in the month.",
    JOB_NUMBER_PRESENT: "Every fact names the job number it belongs to.",
    HAS_FACTS: "The month has at least one fact from this source (an empty month is suspicious).",
}


def kpi_range(catalog: Catalog, code: str) -> Range:
    return RANGE_BY_CODE.get(code) or RANGE_BY_UNIT[catalog.get(code).unit]


def fact_suite(catalog: Catalog, kpi_codes: tuple[str, ...]) -> list[Expectation]:
    """The expectations on one source's facts of one month: one range per distinct range (KPIs
    sharing a range share an expectation), keys unique and present, and a non-empty month."""
    by_range: dict[Range, list[str]] = defaultdict(list)
    for code in sorted(set(kpi_codes)):
        by_range[kpi_range(catalog, code)].append(code)
    suite = [
        Expectation(
            "between",
            "value",
            "ERROR",
            VALUES_IN_RANGE,
            where={"kpi_code": tuple(codes)},
            args={
                k: float(v) for k, v in (("min_value", low), ("max_value", high)) if v is not None
            },
        )
        for (low, high), codes in sorted(by_range.items(), key=lambda item: item[1])
    ]
    suite += [
        Expectation("not_null", "value", "ERROR", VALUES_IN_RANGE),
        Expectation("unique", None, "ERROR", KEYS_UNIQUE, args={"columns": FACT_KEY}),
        Expectation("not_null", "job_number", "ERROR", JOB_NUMBER_PRESENT),
        Expectation("row_count", None, "WARN", HAS_FACTS, args={"min_value": 1}),
    ]
    return suite
