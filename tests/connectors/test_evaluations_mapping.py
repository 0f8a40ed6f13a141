"""Imported evaluation rows -> manager_evaluation, project_progress_rate and
innovation_contribution, on rows written down here: which rows count and which are quarantined."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from connectors.evaluations.mapping import MAPPING
from connectors.registry import HeadRecord, MappingResult, get
from pipelines.combine import Tally
from schemas.catalog import load_catalog
from schemas.facts import Observation, PersonRef, QuarantinedRecord

PERIOD = "2026-10"


def row(job_number: str, kpi: str, value: str, period: str = PERIOD) -> dict[str, Any]:
    return {
        "key": f"{job_number}/{period}/{kpi}",
        "job_number": job_number,
        "name": "张三",
        "period": period,
        "kpi": kpi,
        "value": value,
        "comment": None,
        "evaluator": "李四",
        "file": "evaluations.csv",
        "file_sha256": "0" * 64,
        "row": 2,
    }


class Landed:
    def __init__(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        self.rows = rows

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        assert (stream, source) == ("evaluations", None)
        for version_id, payload in self.rows:
            yield HeadRecord(version_id=version_id, record_key=str(payload["key"]), payload=payload)


def run(*rows: tuple[int, dict[str, Any]]) -> MappingResult:
    return MAPPING.run(PERIOD, Landed(list(rows)))


def test_each_row_of_the_period_is_one_observation_of_its_kpi() -> None:
    result = run(
        (1, row("E00001", "manager_evaluation", "87.5")),
        (2, row("E00001", "project_progress_rate", "112")),
        (3, row("E00002", "innovation_contribution", "64")),
    )
    assert result.observations == [
        Observation(PersonRef("job_number", "E00001"), "manager_evaluation", Decimal("87.5"),
                    inputs=(1,)),
        Observation(PersonRef("job_number", "E00001"), "project_progress_rate", Decimal("112"),
                    inputs=(2,)),
        Observation(PersonRef("job_number", "E00002"), "innovation_contribution", Decimal("64"),
                    inputs=(3,)),
    ]  # fmt: skip
    assert result.quarantined == []


def test_rows_of_other_periods_are_left_to_their_period() -> None:
    result = run(
        (1, row("E00001", "manager_evaluation", "80", period="2026-09")),
        (2, row("E00001", "manager_evaluation", "90", period="2026-11")),
    )
    assert result == MappingResult(observations=[], quarantined=[])


def test_the_newest_version_of_a_person_s_value_wins() -> None:
    # A corrected file lands a new version; if one person's value ever arrives twice (a job
    # number written with stray spaces), the catalog's latest aggregation keeps the newest.
    result = run(
        (7, row("E00001", "manager_evaluation", "70")),
        (9, row(" E00001 ", "manager_evaluation", "88.456") | {"key": "x"}),
    )
    assert [o.person for o in result.observations] == [PersonRef("job_number", "E00001")] * 2
    tally = Tally()
    for observation in result.observations:
        tally.add(observation)
    assert tally.result(load_catalog().get("manager_evaluation")) == Decimal("88.46")


def test_a_kpi_the_catalog_does_not_define_for_evaluations_is_quarantined() -> None:
    result = run((1, row("E00001", "work_attitude", "80")))
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "evaluations", "evaluations", f"E00001/{PERIOD}/work_attitude", 1, PERIOD,
            "unknown_kpi",
            "KPI 'work_attitude' is not one of manager_evaluation, project_progress_rate, "
            "innovation_contribution",
        )
    ]  # fmt: skip


def test_a_value_that_is_not_a_decimal_is_quarantined() -> None:
    result = run((1, row("E00001", "manager_evaluation", "NaN")))
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "evaluations", "evaluations", f"E00001/{PERIOD}/manager_evaluation", 1, PERIOD,
            "bad_value", "value 'NaN' is not a decimal",
        )
    ]  # fmt: skip


def test_a_row_without_a_readable_period_is_quarantined() -> None:
    result = run((1, row("E00001", "manager_evaluation", "80", period="2026/10")))
    assert result.observations == []
    assert result.quarantined == [
        QuarantinedRecord(
            "evaluations", "evaluations", "E00001/2026/10/manager_evaluation", 1, PERIOD,
            "bad_period", "period '2026/10' is not a YYYY-MM month",
        )
    ]  # fmt: skip


def test_the_mapping_is_registered_for_the_three_evaluation_kpis() -> None:
    assert get("evaluations").mapping is MAPPING
    assert MAPPING.kpi_codes == (
        "manager_evaluation",
        "project_progress_rate",
        "innovation_contribution",
    )
    assert {load_catalog().get(code).aggregation for code in MAPPING.kpi_codes} == {"latest"}
