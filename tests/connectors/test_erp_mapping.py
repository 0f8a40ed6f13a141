"""The ERP mapping on hand-made rows: approved receipts per salesperson with a zero for every
salesperson with a collection target, approved production per operator, cost control as a ratio
per cost-centre manager, and every unreadable row quarantined with the column and value."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest

from connectors.erp import CONNECTOR
from connectors.erp.mapping import MAPPING
from connectors.registry import HeadRecord, MappingResult
from pipelines.combine import Tally
from schemas.catalog import load_catalog
from schemas.facts import ACTUAL, TARGET, Observation, PersonRef, QuarantinedRecord

PERIOD = "2026-10"
Row = tuple[int, str, dict[str, Any]]


class Landed:
    """Heads of landed ERP rows as (version id, record key, payload) per stream."""

    def __init__(self, streams: dict[str, list[Row]]) -> None:
        self.streams = streams

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        assert source is None, "the ERP mapping reads only its own streams"
        for version_id, record_key, payload in self.streams.get(stream, []):
            yield HeadRecord(version_id=version_id, record_key=record_key, payload=payload)


def receipt(version_id: int, fid: int, saler: str, amount: str, day: str, status: str = "C") -> Row:
    return (
        version_id,
        str(fid),
        {
            "FID": fid,
            "FBILLNO": f"SKD{fid}",
            "FSALERNO": saler,
            "FRECAMOUNT": amount,
            "FDATE": day,
            "FDOCUMENTSTATUS": status,
            "FMODIFYDATE": day,
        },
    )


def target(version_id: int, job_number: str, kpi: str, period: str = PERIOD) -> Row:
    return (
        version_id,
        f"{job_number}|{period}|{kpi}",
        {
            "FEMPNO": job_number,
            "FPERIOD": period,
            "FKPI": kpi,
            "FTARGET": "200000.0000",
            "FMODIFYDATE": f"{period}-01T08:00:00",
        },
    )


def instock(
    version_id: int, fid: int, job_number: str, qty: str, day: str, status: str = "C"
) -> Row:
    return (
        version_id,
        str(fid),
        {
            "FID": fid,
            "FEMPNO": job_number,
            "FMATERIAL": "M-1004 法兰盘",
            "FQTY": qty,
            "FDATE": day,
            "FDOCUMENTSTATUS": status,
            "FMODIFYDATE": day,
        },
    )


def cost(version_id: int, centre: str, manager: str, target_cost: str, actual: str) -> Row:
    return (
        version_id,
        f"{centre}|{PERIOD}",
        {
            "FCOSTCENTER": centre,
            "FMANAGERNO": manager,
            "FPERIOD": PERIOD,
            "FTARGETCOST": target_cost,
            "FACTUALCOST": actual,
            "FMODIFYDATE": "2026-10-30T20:00:00",
        },
    )


def changed(row: Row, key: str | None = None, **columns: Any) -> Row:
    """``row`` with some columns (and so perhaps its key) rewritten."""
    version_id, record_key, payload = row
    return (version_id, key or record_key, {**payload, **columns})


def job(job_number: str) -> PersonRef:
    return PersonRef("job_number", job_number)


def run(streams: dict[str, list[Row]], period: str = PERIOD) -> MappingResult:
    """The actual observations (targets have tests of their own) and the quarantine."""
    result = planned(streams, period)
    actual = [o for o in result.observations if o.kind == ACTUAL]
    return MappingResult(observations=actual, quarantined=result.quarantined)


def planned(streams: dict[str, list[Row]], period: str = PERIOD) -> MappingResult:
    return MAPPING.run(period, Landed(streams))


def facts(observations: list[Observation]) -> dict[tuple[str, str], Decimal | None]:
    """What the core makes of the observations per job number, by the catalog's aggregation."""
    catalog = load_catalog()
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for o in observations:
        tallies[(o.person.person_id, o.kpi_code)].add(o)
    return {key: t.result(catalog.get(key[1])) for key, t in sorted(tallies.items())}


def test_the_erp_registers_its_mapping_with_catalogued_aggregations() -> None:
    assert CONNECTOR.mapping is MAPPING
    assert MAPPING.kpi_codes == ("collection_amount", "output_qty", "cost_control")
    assert MAPPING.streams == ("ar_receipt", "sal_target", "prd_instock", "cb_cost")
    assert MAPPING.reads == ()
    catalog = load_catalog()
    # The ERP gives targets for exactly the KPIs whose catalog entry names it as target source.
    assert set(MAPPING.target_codes) == {k.code for k in catalog.root if k.target_source == "erp"}
    assert [(catalog.get(c).aggregation, catalog.get(c).unit) for c in MAPPING.kpi_codes] == [
        ("sum", "CNY"),
        ("sum", "pcs"),
        ("ratio", "%"),
    ]


def test_approved_receipts_dated_in_the_local_month_are_summed_per_salesperson() -> None:
    result = run(
        {
            "ar_receipt": [
                receipt(11, 1001, "E00001", "12345.60", "2026-10-01T00:00:00"),
                receipt(12, 1002, "E00001", "100.05", "2026-10-31T23:59:00"),
                receipt(13, 1003, "E00002", "500.00", "2026-10-15T10:00:00", status="A"),
                receipt(14, 1004, "E00002", "700.00", "2026-10-15T10:00:00", status="B"),
                receipt(15, 1005, "E00002", "800.00", "2026-11-01T00:00:00"),
                receipt(16, 1006, "E00002", "900.00", "2026-09-30T23:59:59"),
                # An offset, should a driver send one, is converted to Asia/Shanghai first.
                receipt(17, 1007, "E00003", "42.00", "2026-09-30T16:30:00+00:00"),
            ]
        }
    )
    assert result.quarantined == []
    assert result.observations == [
        Observation(job("E00001"), "collection_amount", Decimal("12345.60"), inputs=(11,)),
        Observation(job("E00001"), "collection_amount", Decimal("100.05"), inputs=(12,)),
        Observation(job("E00003"), "collection_amount", Decimal("42.00"), inputs=(17,)),
    ]
    assert facts(result.observations) == {
        ("E00001", "collection_amount"): Decimal("12445.65"),
        ("E00003", "collection_amount"): Decimal("42.00"),
    }


def test_every_salesperson_with_a_collection_target_is_measured_zero_carrying_the_target() -> None:
    result = run(
        {
            "ar_receipt": [
                receipt(11, 1001, "E00001", "5000.00", "2026-10-08T10:00:00"),
                receipt(12, 1002, "E00002", "7000.00", "2026-10-08T10:00:00", status="A"),
            ],
            "sal_target": [
                target(21, "E00001", "collection_amount"),
                target(22, "E00002", "collection_amount"),
                target(23, "E00003", "collection_amount", period="2026-09"),
                target(24, "E00004", "contract_amount"),
                target(25, "E00005", "output_qty"),
            ],
        }
    )
    assert result.quarantined == []
    assert result.observations == [
        Observation(job("E00001"), "collection_amount", Decimal("5000.00"), inputs=(11,)),
        Observation(job("E00002"), "collection_amount", Decimal(0), inputs=(22,)),
    ]
    assert facts(result.observations) == {
        ("E00001", "collection_amount"): Decimal("5000.00"),
        ("E00002", "collection_amount"): Decimal("0.00"),
    }


def test_a_receipt_corrected_to_another_salesperson_counts_only_for_the_current_one() -> None:
    """Receipt 1001 was posted to E00002 (version 11) and corrected to E00001 (version 31):
    heads carry only version 31, so E00002 is left with a zero backed by their target."""
    targets = [target(21, "E00001", "collection_amount"), target(22, "E00002", "collection_amount")]
    posted = run(
        {
            "ar_receipt": [receipt(11, 1001, "E00002", "8800.00", "2026-10-08T10:00:00")],
            "sal_target": targets,
        }
    )
    corrected = run(
        {
            "ar_receipt": [receipt(31, 1001, "E00001", "8800.00", "2026-10-08T10:00:00")],
            "sal_target": targets,
        }
    )
    assert facts(posted.observations) == {
        ("E00001", "collection_amount"): Decimal("0.00"),
        ("E00002", "collection_amount"): Decimal("8800.00"),
    }
    assert corrected.observations == [
        Observation(job("E00001"), "collection_amount", Decimal("8800.00"), inputs=(31,)),
        Observation(job("E00002"), "collection_amount", Decimal(0), inputs=(22,)),
    ]
    assert facts(corrected.observations) == {
        ("E00001", "collection_amount"): Decimal("8800.00"),
        ("E00002", "collection_amount"): Decimal("0.00"),
    }


def test_approved_production_receipts_of_the_month_are_summed_per_operator_without_zeros() -> None:
    result = run(
        {
            "prd_instock": [
                instock(41, 5001, "E00100", "43.0000", "2026-10-02T17:00:00"),
                instock(42, 5002, "E00100", "57.0000", "2026-10-31T20:00:00"),
                instock(43, 5003, "E00101", "60.0000", "2026-10-02T17:00:00", status="A"),
                instock(44, 5004, "E00101", "61.0000", "2026-11-01T08:00:00"),
            ],
            "sal_target": [target(25, "E00101", "output_qty")],
        }
    )
    assert result.quarantined == []
    assert result.observations == [
        Observation(job("E00100"), "output_qty", Decimal("43.0000"), inputs=(41,)),
        Observation(job("E00100"), "output_qty", Decimal("57.0000"), inputs=(42,)),
    ]
    assert facts(result.observations) == {("E00100", "output_qty"): Decimal(100)}


def test_cost_control_is_the_saving_over_the_target_cost_combined_per_manager() -> None:
    other_month = changed(
        cost(53, "CC-L1", "E00082", "900000.00", "1000000.00"), "CC-L1|2026-09", FPERIOD="2026-09"
    )
    result = run(
        {
            "cb_cost": [
                cost(51, "CC-L1", "E00082", "1000000.00", "950000.00"),
                cost(52, "CC-L2", "E00083", "800000.00", "880000.50"),
                other_month,
                cost(54, "CC-L3", "E00084", "900000.00", "850000.00"),
                cost(55, "CC-L4", "E00084", "100000.00", "125000.00"),
            ]
        }
    )
    assert result.quarantined == []
    assert result.observations == [
        Observation(
            job("E00082"),
            "cost_control",
            Decimal("50000.00"),
            weight=Decimal("1000000.00"),
            inputs=(51,),
        ),
        Observation(
            job("E00083"),
            "cost_control",
            Decimal("-80000.50"),
            weight=Decimal("800000.00"),
            inputs=(52,),
        ),
        Observation(
            job("E00084"),
            "cost_control",
            Decimal("50000.00"),
            weight=Decimal("900000.00"),
            inputs=(54,),
        ),
        Observation(
            job("E00084"),
            "cost_control",
            Decimal("-25000.00"),
            weight=Decimal("100000.00"),
            inputs=(55,),
        ),
    ]
    assert facts(result.observations) == {
        ("E00082", "cost_control"): Decimal("5.00"),
        ("E00083", "cost_control"): Decimal("-10.00"),  # -10.0000625 rounds half up to -10.00
        ("E00084", "cost_control"): Decimal("2.50"),
    }


# (case, landed rows, stream, record key, version id, reason, detail)
UNREADABLE: list[tuple[str, dict[str, list[Row]], str, str, int, str, str]] = [
    (
        "receipt amount with a thousands separator",
        {"ar_receipt": [receipt(11, 1001, "E00001", "12,345.60", "2026-10-08T10:00:00")]},
        "ar_receipt", "1001", 11,
        "bad_value", "FRECAMOUNT '12,345.60' is not a decimal number",
    ),
    (
        "quantity not finite",
        {"prd_instock": [instock(41, 5001, "E00100", "NaN", "2026-10-02T17:00:00")]},
        "prd_instock", "5001", 41,
        "bad_value", "FQTY 'NaN' is not a finite decimal number",
    ),
    (
        "actual cost missing",
        {"cb_cost": [changed(cost(51, "CC-L1", "E00082", "1000000.00", "1"), FACTUALCOST=None)]},
        "cb_cost", "CC-L1|2026-10", 51,
        "bad_value", "FACTUALCOST None is not a decimal number",
    ),
    (
        "receipt date not ISO 8601",
        {"ar_receipt": [receipt(11, 1001, "E00001", "500.00", "2026/10/08 10:00")]},
        "ar_receipt", "1001", 11,
        "bad_timestamp", "FDATE '2026/10/08 10:00' is not an ISO 8601 time",
    ),
    (
        "production date empty",
        {"prd_instock": [instock(41, 5001, "E00100", "1.0000", "")]},
        "prd_instock", "5001", 41,
        "bad_timestamp", "FDATE '' is not an ISO 8601 time",
    ),
    (
        "cost line period out of range",
        {"cb_cost": [changed(cost(51, "CC-L1", "E00082", "1", "1"), "CC-L1|2026-13",
                             FPERIOD="2026-13")]},
        "cb_cost", "CC-L1|2026-13", 51,
        "bad_period", "FPERIOD '2026-13' is not a YYYY-MM period",
    ),
    (
        "collection target period in another notation",
        {"sal_target": [changed(target(21, "E00001", "collection_amount"),
                                "E00001|10/2026|collection_amount", FPERIOD="10/2026")]},
        "sal_target", "E00001|10/2026|collection_amount", 21,
        "bad_period", "FPERIOD '10/2026' is not a YYYY-MM period",
    ),
    (
        "receipt without salesperson",
        {"ar_receipt": [receipt(11, 1001, " ", "500.00", "2026-10-08T10:00:00")]},
        "ar_receipt", "1001", 11,
        "missing_person", "FSALERNO is empty: the row names no employee",
    ),
    (
        "cost line without manager",
        {"cb_cost": [cost(51, "CC-L1", "", "1000000.00", "950000.00")]},
        "cb_cost", "CC-L1|2026-10", 51,
        "missing_person", "FMANAGERNO is empty: the row names no employee",
    ),
    (
        "collection target without salesperson",
        {"sal_target": [target(21, "", "collection_amount")]},
        "sal_target", "|2026-10|collection_amount", 21,
        "missing_person", "FEMPNO is empty: the row names no employee",
    ),
    (
        "target for a KPI the ERP sets none for",
        {"sal_target": [target(21, "E00001", "late_count")]},
        "sal_target", "E00001|2026-10|late_count", 21,
        "unknown_kpi", "FKPI 'late_count' is not a KPI the ERP sets targets for",
    ),
    (
        "target value not a number",
        {"sal_target": [changed(target(21, "E00001", "output_qty"), FTARGET="two thousand")]},
        "sal_target", "E00001|2026-10|output_qty", 21,
        "bad_value", "FTARGET 'two thousand' is not a decimal number",
    ),
    (
        "zero target cost",
        {"cb_cost": [cost(51, "CC-L1", "E00082", "0.00", "950000.00")]},
        "cb_cost", "CC-L1|2026-10", 51,
        "non_positive_target_cost", "FTARGETCOST '0.00' is not positive: no ratio to it",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("streams", "stream", "record_key", "version_id", "reason", "detail"),
    [pytest.param(*case[1:], id=case[0]) for case in UNREADABLE],
)
def test_an_unreadable_row_is_quarantined_with_the_column_and_value(
    streams: dict[str, list[Row]],
    stream: str,
    record_key: str,
    version_id: int,
    reason: str,
    detail: str,
) -> None:
    result = run(streams)
    assert result.quarantined == [
        QuarantinedRecord("erp", stream, record_key, version_id, PERIOD, reason, detail)
    ]
    assert result.observations == []


def test_an_unreadable_row_does_not_hold_back_the_others() -> None:
    result = run(
        {
            "ar_receipt": [
                receipt(11, 1001, "E00001", "abc", "2026-10-08T10:00:00"),
                receipt(12, 1002, "E00001", "300.00", "2026-10-09T10:00:00"),
            ],
            "sal_target": [target(21, "E00001", "collection_amount")],
        }
    )
    assert [(q.record_key, q.reason) for q in result.quarantined] == [("1001", "bad_value")]
    assert result.observations == [
        Observation(job("E00001"), "collection_amount", Decimal("300.00"), inputs=(12,))
    ]


def test_rows_that_do_not_count_are_skipped_not_quarantined() -> None:
    """A draft or another month's row is not read further, so its bad amount is not a finding
    of this period; a row whose date cannot be read may belong to any month and is reported."""
    drafts = planned(
        {
            "ar_receipt": [
                receipt(11, 1001, "E00001", "abc", "2026-10-08T10:00:00", status="A"),
                receipt(12, 1002, "E00001", "abc", "2026-09-08T10:00:00"),
                receipt(13, 1003, "E00001", "500.00", "not a date", status="B"),
            ],
            "prd_instock": [instock(41, 5001, "E00100", "x", "2026-11-02T17:00:00")],
            "sal_target": [changed(target(25, "E00100", "output_qty", period="2026-09"),
                                   FTARGET="x")],
        }
    )  # fmt: skip
    assert drafts == MappingResult(observations=[], quarantined=[])
    undated = {"ar_receipt": [receipt(11, 1001, "E00001", "500.00", "not a date")]}
    assert [(q.period, q.reason) for q in run(undated, "2026-09").quarantined] == [
        ("2026-09", "bad_timestamp")
    ]


def test_every_target_row_of_the_period_is_a_target_fact_with_its_row_as_lineage() -> None:
    result = planned(
        {
            "sal_target": [
                target(21, "E00001", "collection_amount"),
                changed(target(22, "E00001", "new_customers"), FTARGET="3.0000"),
                target(23, "E00003", "contract_amount", period="2026-09"),
                changed(target(24, "E00100", "output_qty"), FTARGET="2000.0000"),
            ],
        }
    )
    assert result.quarantined == []
    assert [o for o in result.observations if o.kind == TARGET] == [
        Observation(job("E00001"), "collection_amount", Decimal("200000.0000"), inputs=(21,),
                    kind=TARGET),
        Observation(job("E00001"), "new_customers", Decimal("3.0000"), inputs=(22,), kind=TARGET),
        Observation(job("E00100"), "output_qty", Decimal("2000.0000"), inputs=(24,), kind=TARGET),
    ]  # fmt: skip
