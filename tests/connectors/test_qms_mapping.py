"""The QMS mapping on hand-written inspections: which items enter the semi-finished yield, with
which badge, day and weight, and which are quarantined and why."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.qms.mapping import MAPPING
from connectors.registry import DirectoryEntry, HeadRecord, PersonLink
from pipelines.combine import Tally
from pipelines.identity import IdentityResolver
from schemas.catalog import load_catalog
from schemas.facts import Observation, PersonRef, QuarantinedRecord

PERIOD = "2026-10"
KPI = "semi_finished_yield_rate"


class Landed:
    """Landed QMS inspections as the store would hand them to the mapping: (version id, record
    key, payload)."""

    def __init__(self, *rows: tuple[int, str, dict[str, Any]]) -> None:
        self.rows = rows

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        assert (source, stream) == (None, "inspections")
        for version_id, key, payload in self.rows:
            yield HeadRecord(version_id=version_id, record_key=key, payload=payload)


def inspection(
    inspection_id: str,
    *,
    badge: str = "BG00083",
    stage: str = "semi_finished",
    inspected: object = 100,
    qualified: object = 95,
    at: object = "2026-10-12 09:30:00",
) -> dict[str, Any]:
    return {
        "inspection_id": inspection_id,
        "batch_no": "B261012-L1-001",
        "stage": stage,
        "operator_badge": badge,
        "line": "L1",
        "inspected_qty": inspected,
        "qualified_qty": qualified,
        "defect_codes": ["D01 划伤"],
        "inspected_at": at,
    }


def landed(*items: dict[str, Any]) -> Landed:
    return Landed(*((n, str(item["inspection_id"]), item) for n, item in enumerate(items, 1)))


def test_semi_finished_items_of_the_period_are_ratio_observations_of_their_badge_and_day() -> None:
    result = MAPPING.run(
        PERIOD,
        landed(
            inspection("QI1", inspected=120, qualified=114, at="2026-10-01 00:00:00"),
            inspection("QI2", badge="BG00007", inspected=50, qualified=50),
            inspection("QI3", stage="finished", inspected=80, qualified=10),
            inspection("QI4", at="2026-09-30 23:59:59"),
            inspection("QI5", at="2026-11-01 00:00:00"),
            inspection("QI6", inspected=0, qualified=0, at="2026-10-31 23:59:59"),
        ),
    )
    assert result.quarantined == []
    assert result.observations == [
        Observation(
            PersonRef("badge", "BG00083"),
            KPI,
            Decimal(114),
            weight=Decimal(120),
            on=date(2026, 10, 1),
            inputs=(1,),
        ),
        Observation(
            PersonRef("badge", "BG00007"),
            KPI,
            Decimal(50),
            weight=Decimal(50),
            on=date(2026, 10, 12),
            inputs=(2,),
        ),
        Observation(
            PersonRef("badge", "BG00083"),
            KPI,
            Decimal(0),
            weight=Decimal(0),
            on=date(2026, 10, 31),
            inputs=(6,),
        ),
    ]


def test_an_inspection_landed_under_two_keys_counts_once_with_its_newest_version() -> None:
    older = inspection("QI7", inspected=100, qualified=90)
    newer = inspection("QI7 ", inspected=100, qualified=97)
    result = MAPPING.run(PERIOD, Landed((3, "QI7", older), (8, "QI7 ", newer)))
    assert [(o.value, o.weight, o.inputs) for o in result.observations] == [
        (Decimal(97), Decimal(100), (8,))
    ]


def test_a_badge_handed_to_a_new_hire_splits_the_month_between_its_holders() -> None:
    """The donor held BG00083 until 10 October, the new hire from that day: each observation
    resolves on its own day, and each person's yield divides only their own inspections."""
    result = MAPPING.run(
        PERIOD,
        landed(
            inspection("QI8", inspected=100, qualified=80, at="2026-10-09 16:59:59"),
            inspection("QI9", inspected=200, qualified=198, at="2026-10-10 08:00:00"),
            inspection("QI10", inspected=100, qualified=99, at="2026-10-20 10:00:00"),
        ),
    )
    badge = PersonRef("badge", "BG00083")
    resolver = IdentityResolver.build(
        [DirectoryEntry(job, "", "", None, PersonRef("erp", job)) for job in ("E00083", "E00159")],
        [
            PersonLink(badge, "E00083", None, 1, date(2019, 10, 17), date(2026, 10, 10)),
            PersonLink(badge, "E00159", None, 2, date(2026, 10, 10), None),
        ],
    )
    tallies: dict[str, Tally] = {}
    for observation in result.observations:
        holder = resolver.resolve(observation.person, observation.on)
        assert isinstance(holder, str)
        tallies.setdefault(holder, Tally()).add(observation)
    kpi = load_catalog().get(KPI)
    assert {job: (t.result(kpi), sorted(t.inputs)) for job, t in tallies.items()} == {
        "E00083": (Decimal("80.00"), [1]),
        "E00159": (Decimal("99.00"), [2, 3]),
    }


@pytest.mark.parametrize(
    ("at", "detail"),
    [
        (
            "2026/10/12 09:30",
            "inspected_at '2026/10/12 09:30' is not a 'YYYY-MM-DD HH:MM:SS' local time",
        ),
        (None, "inspected_at None is not a 'YYYY-MM-DD HH:MM:SS' local time"),
    ],
)
def test_an_unreadable_inspection_time_is_quarantined(at: object, detail: str) -> None:
    result = MAPPING.run(PERIOD, landed(inspection("QI11", at=at), inspection("QI12")))
    assert result.quarantined == [
        QuarantinedRecord("qms", "inspections", "QI11", 1, PERIOD, "bad_timestamp", detail)
    ]
    assert [o.inputs for o in result.observations] == [(2,)]


@pytest.mark.parametrize(
    ("inspected", "qualified", "detail"),
    [
        (-5, 0, "inspected_qty -5 is negative"),
        (100, -1, "qualified_qty -1 is negative"),
        (100, 95.5, "qualified_qty 95.5 is not a whole number of pieces"),
        ("12x", 10, "inspected_qty '12x' is not a number"),
        (None, 10, "inspected_qty None is not a count of pieces"),
        (100, True, "qualified_qty True is not a count of pieces"),
    ],
)
def test_an_impossible_quantity_is_quarantined(
    inspected: object, qualified: object, detail: str
) -> None:
    result = MAPPING.run(
        PERIOD, landed(inspection("QI13", inspected=inspected, qualified=qualified))
    )
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord("qms", "inspections", "QI13", 1, PERIOD, "bad_quantity", detail)
    ]


def test_whole_quantities_sent_as_text_or_float_count_as_pieces() -> None:
    result = MAPPING.run(PERIOD, landed(inspection("QI14", inspected="120", qualified=118.0)))
    assert [(o.value, o.weight) for o in result.observations] == [(Decimal(118), Decimal(120))]


def test_more_qualified_than_inspected_is_quarantined() -> None:
    result = MAPPING.run(PERIOD, landed(inspection("QI15", inspected=100, qualified=101)))
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "qms",
            "inspections",
            "QI15",
            1,
            PERIOD,
            "qualified_exceeds_inspected",
            "qualified_qty 101 exceeds inspected_qty 100",
        )
    ]


def test_an_unknown_stage_is_quarantined_rather_than_guessed() -> None:
    result = MAPPING.run(PERIOD, landed(inspection("QI16", stage="rework")))
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "qms",
            "inspections",
            "QI16",
            1,
            PERIOD,
            "unknown_stage",
            "stage 'rework' is neither 'semi_finished' nor 'finished'",
        )
    ]


def test_the_mapping_is_registered_for_the_yield() -> None:
    from connectors.registry import get

    mapping = get("qms").mapping
    assert mapping is MAPPING
    assert (mapping.kpi_codes, mapping.streams, mapping.reads) == ((KPI,), ("inspections",), ())
