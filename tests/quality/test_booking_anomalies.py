"""How a month's values were booked, on hand-made facts: one event booked twice under two record
keys, and an evaluator whose values are all the same."""

from __future__ import annotations

from decimal import Decimal

from quality.anomalies import observation
from quality.duplicates import duplicate_anomalies
from quality.fact_records import FactRecords, InputRecord
from quality.uniform import uniform_anomalies
from schemas.catalog import AnomalyRule, Kpi

FIELDS = ("FEMPNO", "FMATERIAL", "FQTY", "FDATE")


def _kpi(code: str, source: str, **rule: object) -> Kpi:
    return Kpi(
        code=code, name_zh=code, name_en=code, unit="pcs", direction="higher_is_better",
        sources=(source,), aggregation="sum", decimals=0, definition="A KPI for the test.",
        anomaly=AnomalyRule(**rule),  # type: ignore[arg-type]
    )  # fmt: skip


def _receipt(fid: int, job: str, material: str, qty: str, day: str) -> InputRecord:
    payload = {"FID": fid, "FEMPNO": job, "FMATERIAL": material, "FQTY": qty, "FDATE": day}
    return InputRecord("prd_instock", str(fid), payload)


def test_the_same_receipt_booked_twice_is_one_anomaly_of_its_worker() -> None:
    kpi = _kpi("output_qty", "erp", duplicate_fields={"erp/prd_instock": FIELDS})
    doubled = FactRecords(
        "E1",
        Decimal(300),
        (
            _receipt(1, "E1", "M-1", "100", "2026-10-05T17:03:00"),
            _receipt(2, "E1", "M-1", "100", "2026-10-06T17:10:00"),
            _receipt(9, "E1", "M-1", "100", "2026-10-05T17:03:00"),
        ),
    )
    # Same material and quantity on another day, or another quantity the same day: two events.
    fine = FactRecords(
        "E2",
        Decimal(200),
        (
            _receipt(3, "E2", "M-1", "100", "2026-10-05T17:03:00"),
            _receipt(4, "E2", "M-1", "90", "2026-10-05T17:03:00"),
        ),
    )
    (found,) = duplicate_anomalies("erp", "2026-10", kpi, [doubled, fine])
    assert (found.source, found.stream, found.job_number, found.kpi_code, found.period) == (
        "erp", "prd_instock", "E1", "output_qty", "2026-10"
    )  # fmt: skip
    assert (found.method, found.record_keys, found.extra["extra_bookings"]) == (
        "booked_twice", ("1", "9"), 1
    )  # fmt: skip
    seen = observation(found, kpi)
    assert (seen.check_name, seen.kind, seen.severity, seen.count) == (
        "anomaly.booked_twice", "anomaly", "WARN", 2
    )  # fmt: skip
    assert seen.detail["message"] == (
        "output_qty of E1 in 2026-10 counts 1 event(s) more than once: prd_instock records "
        "1, 9 agree on FEMPNO, FMATERIAL, FQTY, FDATE"
    )
    # Another source's stream is not this source's business.
    assert duplicate_anomalies("qms", "2026-10", kpi, [doubled]) == []


def _evaluation(job: str, value: int, evaluator: str) -> FactRecords:
    record = InputRecord(
        "evaluations", f"{job}/2026-10/manager_evaluation", {"evaluator": evaluator}
    )
    return FactRecords(job, Decimal(value), (record,))


def test_an_evaluator_giving_everyone_the_same_score_is_one_anomaly_of_the_stream() -> None:
    kpi = _kpi("manager_evaluation", "evaluations", uniform_by="evaluator", uniform_min_facts=5)
    facts = [_evaluation(f"E{n}", 100, "王经理") for n in range(1, 6)]
    # Four equal scores are too few to say; varied scores are an evaluation.
    facts += [_evaluation(f"E{n}", 90, "李经理") for n in range(6, 10)]
    facts += [_evaluation(f"E{n}", 60 + n, "张经理") for n in range(10, 16)]
    (found,) = uniform_anomalies("evaluations", "2026-10", kpi, facts)
    assert (found.source, found.stream, found.job_number, found.kpi_code, found.period) == (
        "evaluations", "evaluations", None, "manager_evaluation", "2026-10"
    )  # fmt: skip
    assert found.extra["evaluators"] == [
        {
            "evaluator": "王经理",
            "value": "100",
            "people": 5,
            "job_numbers": ["E1", "E2", "E3", "E4", "E5"],
        }
    ]
    assert len(found.record_keys) == 5
    seen = observation(found, kpi)
    assert (seen.check_name, seen.job_number, seen.detail["threshold"]) == (
        "anomaly.uniform_evaluator", None, 5
    )  # fmt: skip
    assert seen.detail["message"] == (
        "manager_evaluation in 2026-10: evaluator 王经理 gives all 5 people the same 100"
    )
    assert uniform_anomalies("evaluations", "2026-10", _kpi("x", "evaluations"), facts) == []
