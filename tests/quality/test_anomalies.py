"""The detectors on hand-made numbers: exact z-scores, which baseline is used, and the floors."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from quality.anomalies import FactPoint, observation, person_anomalies, robust_z, volume_anomalies
from quality.anomalies_recall import recall_precision
from schemas.catalog import AnomalyRule, Kpi


def _kpi(**rule: object) -> Kpi:
    return Kpi(
        code="output_qty", name_zh="产量", name_en="Output", unit="pcs",
        direction="higher_is_better", sources=("erp",), aggregation="sum", decimals=0,
        definition="Pieces of approved receipts.", anomaly=AnomalyRule(**rule),  # type: ignore[arg-type]
    )  # fmt: skip


def _point(job: str, period: str, value: int, records: int = 1) -> FactPoint:
    keys = tuple(f"{job}-{period}-{n}" for n in range(records))
    return FactPoint(job, period, "output_qty", Decimal(value), records, "erp", "prd_instock", keys)


def test_robust_z_is_distance_from_the_median_in_scaled_mads() -> None:
    score = robust_z(20, [10, 11, 12, 13, 14])
    # median 12, MAD median(|-2|,|-1|,0,1,2) = 1, scale 1.4826
    assert score.median == 12 and score.scale == 1.4826
    assert round(score.z, 4) == round(8 / 1.4826, 4) == 5.3959


def test_floors_keep_a_flat_baseline_from_flagging_small_wobbles() -> None:
    assert robust_z(101, [100, 100, 100]).z == float("inf")
    floored = robust_z(101, [100, 100, 100], relative_floor=0.1, absolute_floor=1)
    assert floored.scale == 10 and floored.z == 0.1
    assert robust_z(100, [100, 100]).z == 0


def test_own_history_when_long_enough_else_the_cohort() -> None:
    kpi = _kpi(min_history=3, min_cohort=3, threshold=5)
    history = {("E1", "output_qty"): [_point("E1", p, 2000, 20) for p in ("01", "02", "03")]}
    current = [_point("E1", "04", 200, 20)] + [_point(f"E{n}", "04", 1000, 10) for n in (2, 3, 4)]
    found = person_anomalies(current, history, kpi)
    assert [(a.job_number, a.method) for a in found] == [("E1", "own_history")]
    # per record: 10 against 100, scale max(0, 0.1 x 100, 1) = 10
    assert found[0].score.z == -9.0
    # Without history, E1 meets its cohort (10, 100, 100, 100): median 100, MAD 0, scale 10.
    cohort = person_anomalies(current, {}, kpi)
    assert [(a.job_number, a.method, a.score.z) for a in cohort] == [("E1", "cohort", -9.0)]


def test_a_short_month_of_normal_days_is_no_anomaly() -> None:
    kpi = _kpi(min_history=3, threshold=5)
    history = {("E1", "output_qty"): [_point("E1", p, 2000, 20) for p in ("01", "02", "03")]}
    assert person_anomalies([_point("E1", "04", 1000, 10)], history, kpi) == []


def test_volume_flags_the_day_that_lost_half_its_records() -> None:
    kpi = _kpi(min_history=3, volume_threshold=6, volume_relative_floor=0.02)
    start = date(2026, 10, 1)
    by_day = {start + timedelta(days=n): 200 + n % 3 for n in range(20)}
    by_day[date(2026, 10, 12)] = 100
    found = volume_anomalies("qms", "inspections", kpi, "2026-10", by_day, {"2026-10": 4100})
    assert len(found) == 1
    # median 201, MAD 1: the 2% floor (4.02) is the scale, z = (100 - 201) / 4.02
    assert found[0].extra["days"] == [{"day": "2026-10-12", "records": 100, "z": -25.12}]
    # confirmed before: that day is left out of the baseline and still shows as itself
    again = volume_anomalies(
        "qms", "inspections", kpi, "2026-10", by_day, {}, excluded_days=[date(2026, 10, 12)]
    )
    assert again[0].extra["days"][0]["day"] == "2026-10-12"


def test_the_finding_names_value_baseline_and_records() -> None:
    kpi = _kpi(min_history=3, min_cohort=3)
    current = [_point("E1", "04", 200, 2)] + [_point(f"E{n}", "04", 200, 2) for n in (2, 3)]
    history = {("E1", "output_qty"): [_point("E1", p, 2000, 2) for p in ("01", "02", "03")]}
    (anomaly,) = person_anomalies(current, history, kpi)
    seen = observation(anomaly, kpi)
    assert (seen.kind, seen.severity, seen.check_name) == ("anomaly", "WARN", "anomaly.output_qty")
    assert (seen.source, seen.stream, seen.job_number, seen.kpi_code) == (
        "erp", "prd_instock", "E1", "output_qty"
    )  # fmt: skip
    assert seen.detail["value"] == "200" and seen.detail["baseline_median"] == 1000
    assert seen.detail["records"] == ["E1-04-0", "E1-04-1"]


def test_recall_and_precision_match_on_source_stream_job_kpi_and_period() -> None:
    planted = [
        {"source": "crm", "stream": "orders", "job_number": "E1", "kpi_code": "c", "period": "p"},
        {"source": "qms", "stream": "inspections", "job_number": None, "kpi_code": "y",
         "period": "p"},
    ]  # fmt: skip
    findings = [{**planted[0], "kind": "anomaly"}, {**planted[0], "job_number": "E2",
                                                    "kind": "anomaly"}]  # fmt: skip
    result = recall_precision(findings, planted)
    assert (result.recall, result.precision) == (0.5, 0.5)
