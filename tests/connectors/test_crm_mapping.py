"""The CRM mapping on hand-made records: each KPI's rule as exact observations (person, value,
weight, inputs), the month chosen in Asia/Shanghai, and every unreadable record quarantined once
with its reason and a detail naming the field and value."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest

from connectors.crm import CONNECTOR
from connectors.crm.mapping import MAPPING
from connectors.registry import HeadRecord, MappingResult
from pipelines.combine import Tally
from schemas.catalog import load_catalog
from schemas.facts import Observation, QuarantinedRecord

PERIOD = "2026-10"
Row = tuple[int, str, dict[str, Any]]
ONE = Decimal(1)
ZERO = Decimal(0)


class Landed:
    """Heads of landed records as (version id, record key, payload); another source's stream is
    named ``source/stream``."""

    def __init__(self, streams: dict[str, list[Row]]) -> None:
        self.streams = streams

    def heads(
        self, stream: str, source: str | None = None, period: str | None = None
    ) -> Iterable[HeadRecord]:
        name = f"{source}/{stream}" if source else stream
        for version_id, record_key, payload in self.streams.get(name, []):
            yield HeadRecord(version_id=version_id, record_key=record_key, payload=payload)


def record(version_id: int, key: str, **fields: Any) -> Row:
    return (version_id, key, {"id": key, "updated_at": "2026-10-01T09:00:00+08:00", **fields})


def user(version_id: int, key: str, employee_no: str | None = None) -> Row:
    return record(version_id, key, name=key, email=f"{key}@x.example", employee_no=employee_no)


def order(
    version_id: int,
    key: str,
    customer: str,
    owner: str,
    signed_at: Any,
    status: str = "signed",
    amount: Any = "1000.00",
    **extra: Any,
) -> Row:
    return record(
        version_id,
        key,
        customer_id=customer,
        owner_id=owner,
        amount=amount,
        currency="CNY",
        signed_at=signed_at,
        status=status,
        **extra,
    )


def customer(version_id: int, key: str, owner: str, first_order_at: Any) -> Row:
    return record(
        version_id,
        key,
        owner_id=owner,
        created_at="2024-01-02T09:00:00+08:00",
        first_order_at=first_order_at,
    )


def lead(
    version_id: int,
    key: str,
    owner: str,
    created_at: Any,
    status: str = "new",
    to: Any = None,
    **extra: Any,
) -> Row:
    return record(
        version_id,
        key,
        owner_id=owner,
        created_at=created_at,
        status=status,
        converted_order_id=to,
        **extra,
    )


def survey(
    version_id: int, key: str, owner: str, score: Any, submitted_at: Any, **extra: Any
) -> Row:
    return record(
        version_id,
        key,
        order_id="SO-1",
        owner_id=owner,
        score=score,
        submitted_at=submitted_at,
        **extra,
    )


def target(version_id: int, job_number: str, kpi: str, period: str = PERIOD) -> Row:
    return (
        version_id,
        f"{job_number}|{period}|{kpi}",
        {"FEMPNO": job_number, "FPERIOD": period, "FKPI": kpi, "FTARGET": "2.0000"},
    )


def run(streams: dict[str, list[Row]]) -> MappingResult:
    return MAPPING.run(PERIOD, Landed(streams))


def found(result: MappingResult, kpi_code: str) -> list[tuple[str, str, Decimal, Decimal, tuple]]:
    """(system, person id, value, weight, inputs) of one KPI's observations, in order."""
    return [
        (o.person.system, o.person.person_id, o.value, o.weight, o.inputs)
        for o in result.observations
        if o.kpi_code == kpi_code
    ]


def combined(observations: list[Observation], kpi_code: str) -> dict[str, Decimal | None]:
    """What the catalog's aggregation makes of one KPI's observations, per person id."""
    kpi = load_catalog().get(kpi_code)
    tallies: dict[str, Tally] = defaultdict(Tally)
    for observation in observations:
        if observation.kpi_code == kpi_code:
            tallies[observation.person.person_id].add(observation)
    return {person: tally.result(kpi) for person, tally in tallies.items()}


def quarantined(result: MappingResult) -> list[tuple[str, str, int | None, str, str]]:
    return [
        (q.stream, q.record_key, q.raw_version_id, q.reason, q.detail) for q in result.quarantined
    ]


def test_the_mapping_declares_every_crm_kpi_its_streams_and_the_erp_targets() -> None:
    assert CONNECTOR.mapping is MAPPING
    assert MAPPING.kpi_codes == (
        "contract_amount",
        "new_customers",
        "lead_conversion_rate",
        "repurchase_rate",
        "customer_satisfaction",
    )
    assert set(MAPPING.streams) == {"orders", "users", "customers", "leads", "surveys"}
    assert MAPPING.reads == ("erp/sal_target",)
    assert not load_catalog().unknown(MAPPING.kpi_codes)


# contract_amount


def test_contract_amount_is_signed_orders_of_the_local_month_with_a_zero_per_user() -> None:
    result = run(
        {
            "users": [user(1, "U1", "E1"), user(2, "U2", "E2"), user(3, "U3", "E3")],
            "orders": [
                order(10, "SO-1", "C1", "U1", "2026-10-05T10:00:00+08:00", amount="1200.50"),
                # 2026-09-30 17:30 UTC is 01:30 on 1 October in Shanghai.
                order(11, "SO-2", "C1", "U1", "2026-09-30T17:30:00Z", amount="99.50"),
                order(12, "SO-3", "C1", "U2", "2026-10-06T10:00:00+08:00", status="cancelled"),
                order(13, "SO-4", "C1", "U2", "2026-10-07T10:00:00+08:00", is_deleted=True),
                order(14, "SO-5", "C1", "U2", "2026-09-30T23:59:59+08:00"),
            ],
        }
    )
    assert found(result, "contract_amount") == [
        ("crm", "U1", Decimal("1200.50"), ZERO, (10,)),
        ("crm", "U1", Decimal("99.50"), ZERO, (11,)),
        ("crm", "U1", ZERO, ZERO, ()),
        ("crm", "U2", ZERO, ZERO, ()),
        ("crm", "U3", ZERO, ZERO, ()),
    ]
    assert result.quarantined == []


@pytest.mark.parametrize(
    ("changes", "reason", "detail"),
    [
        ({"signed_at": "last Tuesday"}, "bad_timestamp", "signed_at 'last Tuesday' is not an ISO 8601 time stamp"),  # noqa: E501
        ({"amount": "12,000"}, "bad_amount", "amount '12,000' is not a decimal"),
        ({"currency": "USD"}, "unsupported_currency", "currency 'USD' is not CNY"),
    ],
)  # fmt: skip
def test_an_unreadable_signed_order_is_quarantined_once_and_counts_nowhere(
    changes: dict[str, str], reason: str, detail: str
) -> None:
    version_id, key, payload = order(10, "SO-1", "C1", "U1", "2026-10-05T10:00:00+08:00")
    result = run(
        {
            "orders": [(version_id, key, {**payload, **changes})],
            "customers": [customer(20, "C1", "U9", "2025-03-01T10:00:00+08:00")],
        }
    )
    assert quarantined(result) == [("orders", "SO-1", 10, reason, detail)]
    assert found(result, "contract_amount") == []
    assert found(result, "repurchase_rate") == []


# new_customers


def test_a_new_customer_counts_for_the_owner_of_the_order_signed_at_its_first_order_time() -> None:
    first = "2026-10-18T20:22:53+08:00"
    result = run(
        {
            "customers": [
                customer(20, "C1", "U9", first),
                # The first order was cancelled later: the customer was still won in October.
                customer(21, "C2", "U9", "2026-10-03T11:00:00+08:00"),
                customer(22, "C3", "U9", "2026-09-28T11:00:00+08:00"),
                customer(23, "C4", "U9", None),
            ],
            "orders": [
                # An order of another salesperson signed earlier the same day is not the first
                # order the customer record names: only the one at first_order_at is.
                order(10, "SO-1", "C1", "U2", "2026-10-18T18:57:33+08:00"),
                order(11, "SO-2", "C1", "U1", "2026-10-18T12:22:53Z"),
                order(12, "SO-3", "C2", "U2", "2026-10-03T11:00:00+08:00", status="cancelled"),
                order(13, "SO-4", "C3", "U1", "2026-09-28T11:00:00+08:00"),
            ],
        }
    )
    assert found(result, "new_customers") == [
        ("crm", "U1", ONE, ZERO, (20, 11)),
        ("crm", "U2", ONE, ZERO, (21, 12)),
    ]
    assert result.quarantined == []


def test_every_holder_of_a_new_customers_target_for_the_month_is_measured_zero_included() -> None:
    result = run(
        {
            "erp/sal_target": [
                target(30, "E1", "new_customers"),
                target(31, "E2", "new_customers"),
                target(32, "E3", "contract_amount"),
                target(33, "E4", "new_customers", period="2026-09"),
            ]
        }
    )
    assert found(result, "new_customers") == [
        ("job_number", "E1", ZERO, ZERO, ()),
        ("job_number", "E2", ZERO, ZERO, ()),
    ]


def test_a_new_customer_without_its_first_order_is_quarantined() -> None:
    result = run(
        {
            "customers": [customer(20, "C1", "U9", "2026-10-03T11:00:00+08:00")],
            "orders": [order(10, "SO-1", "C1", "U1", "2026-10-03T11:00:01+08:00")],
        }
    )
    assert found(result, "new_customers") == []
    assert quarantined(result) == [
        (
            "customers",
            "C1",
            20,
            "first_order_not_found",
            "no order of customer C1 was signed at first_order_at '2026-10-03T11:00:00+08:00'",
        )
    ]


def test_a_first_order_time_shared_by_two_salespeople_is_quarantined() -> None:
    result = run(
        {
            "customers": [customer(20, "C1", "U9", "2026-10-03T11:00:00+08:00")],
            "orders": [
                order(10, "SO-1", "C1", "U1", "2026-10-03T11:00:00+08:00"),
                order(11, "SO-2", "C1", "U2", "2026-10-03T03:00:00Z"),
            ],
        }
    )
    assert found(result, "new_customers") == []
    assert quarantined(result) == [
        (
            "customers",
            "C1",
            20,
            "ambiguous_first_order",
            "orders SO-1, SO-2 of owners U1, U2 were all signed at first_order_at "
            "'2026-10-03T11:00:00+08:00'",
        )
    ]


def test_a_customer_with_an_unreadable_first_order_time_is_quarantined_once() -> None:
    result = run(
        {
            "customers": [customer(20, "C1", "U9", "03/10/2026")],
            "orders": [order(10, "SO-1", "C1", "U1", "2026-10-03T11:00:00+08:00")],
        }
    )
    assert found(result, "new_customers") == []
    assert found(result, "repurchase_rate") == []
    assert found(result, "contract_amount") == [("crm", "U1", Decimal("1000.00"), ZERO, (10,))]
    assert quarantined(result) == [
        (
            "customers",
            "C1",
            20,
            "bad_timestamp",
            "first_order_at '03/10/2026' is not an ISO 8601 time stamp",
        )
    ]


# repurchase_rate


def test_repurchase_is_a_term_per_buying_customer_for_the_customer_owner() -> None:
    result = run(
        {
            "customers": [
                customer(20, "C1", "U9", "2026-09-30T23:59:59+08:00"),
                customer(21, "C2", "U9", "2026-10-01T00:00:00+08:00"),
                customer(22, "C3", "U8", "2025-05-01T10:00:00+08:00"),
                customer(23, "C4", "U8", "2025-05-01T10:00:00+08:00"),
            ],
            "orders": [
                order(10, "SO-1", "C1", "U1", "2026-10-02T10:00:00+08:00"),
                order(11, "SO-2", "C1", "U2", "2026-10-09T10:00:00+08:00"),
                order(12, "SO-3", "C2", "U1", "2026-09-30T16:00:00Z"),
                order(13, "SO-4", "C3", "U1", "2026-10-02T10:00:00+08:00", status="cancelled"),
                order(14, "SO-5", "C4", "U1", "2026-11-01T10:00:00+08:00"),
                # A customer the CRM has not delivered: the order still counts as a contract.
                order(15, "SO-6", "C5", "U1", "2026-10-02T10:00:00+08:00"),
            ],
        }
    )
    assert found(result, "repurchase_rate") == [
        ("crm", "U9", ONE, ONE, (20, 10, 11)),
        ("crm", "U9", ZERO, ONE, (21, 12)),
    ]
    assert combined(result.observations, "repurchase_rate") == {"U9": Decimal("50.00")}
    assert result.quarantined == []


# lead_conversion_rate


def test_a_lead_is_converted_when_its_order_was_signed_by_the_end_of_its_month() -> None:
    result = run(
        {
            "orders": [
                order(10, "SO-1", "C1", "U1", "2026-10-31T15:59:59Z"),
                order(11, "SO-2", "C1", "U1", "2026-10-31T16:00:00Z"),
                order(12, "SO-3", "C1", "U1", "2026-10-20T10:00:00+08:00", status="cancelled"),
            ],
            "leads": [
                lead(40, "LD-1", "U7", "2026-10-03T09:00:00+08:00", "converted", "SO-1"),
                lead(41, "LD-2", "U7", "2026-10-04T09:00:00+08:00", "converted", "SO-2"),
                lead(42, "LD-3", "U7", "2026-10-05T09:00:00+08:00", "converted", "SO-3"),
                lead(43, "LD-4", "U7", "2026-10-06T09:00:00+08:00", "lost"),
                lead(44, "LD-5", "U6", "2026-09-30T16:30:00Z", "qualified"),
                lead(45, "LD-6", "U6", "2026-09-30T09:00:00+08:00", "converted", "SO-1"),
                lead(46, "LD-7", "U6", "2026-10-07T09:00:00+08:00", is_deleted=True),
            ],
        }
    )
    assert found(result, "lead_conversion_rate") == [
        ("crm", "U7", ONE, ONE, (40, 10)),
        ("crm", "U7", ZERO, ONE, (41, 11)),
        ("crm", "U7", ONE, ONE, (42, 12)),
        ("crm", "U7", ZERO, ONE, (43,)),
        ("crm", "U6", ZERO, ONE, (44,)),
    ]
    assert combined(result.observations, "lead_conversion_rate") == {
        "U7": Decimal("50.00"),
        "U6": Decimal("0.00"),
    }
    assert result.quarantined == []


@pytest.mark.parametrize(
    ("row", "reason", "detail"),
    [
        (
            lead(40, "LD-1", "U7", "yesterday"),
            "bad_timestamp",
            "created_at 'yesterday' is not an ISO 8601 time stamp",
        ),
        (
            lead(40, "LD-1", "U7", "2026-10-03T09:00:00+08:00", "converted", "SO-404"),
            "unknown_order",
            "status 'converted' but converted_order_id 'SO-404' names no landed order "
            "(missing or deleted)",
        ),
        (
            lead(40, "LD-1", "U7", "2026-10-03T09:00:00+08:00", "converted", "SO-2"),
            "unknown_order",
            "status 'converted' but converted_order_id 'SO-2' names no landed order "
            "(missing or deleted)",
        ),
        (
            lead(40, "LD-1", "U7", "2026-10-03T09:00:00+08:00", "converted"),
            "unknown_order",
            "status 'converted' but converted_order_id None names no landed order "
            "(missing or deleted)",
        ),
        (
            lead(40, "LD-1", "U7", "2026-10-03T09:00:00+08:00", "converted", "SO-3"),
            "bad_timestamp",
            "converted order SO-3 has signed_at 'soon', not an ISO 8601 time stamp",
        ),
    ],
)
def test_a_lead_that_cannot_be_placed_is_quarantined(row: Row, reason: str, detail: str) -> None:
    result = run(
        {
            "leads": [row],
            "orders": [
                order(11, "SO-2", "C1", "U1", "2026-10-04T10:00:00+08:00", is_deleted=True),
                order(12, "SO-3", "C1", "U1", "soon", status="cancelled"),
            ],
        }
    )
    assert found(result, "lead_conversion_rate") == []
    assert quarantined(result) == [("leads", "LD-1", 40, reason, detail)]


# customer_satisfaction


def test_satisfaction_is_the_mean_score_of_the_month_per_survey_owner() -> None:
    result = run(
        {
            "surveys": [
                survey(50, "SV-1", "U1", 5, "2026-10-02T10:00:00+08:00"),
                survey(51, "SV-2", "U1", "4", "2026-10-03T10:00:00+08:00"),
                survey(52, "SV-3", "U1", 4, "2026-10-04T10:00:00+08:00"),
                survey(53, "SV-4", "U2", 1.0, "2026-09-30T16:00:00Z"),
                survey(54, "SV-5", "U2", 2, "2026-09-30T15:59:59Z"),
                survey(55, "SV-6", "U2", 3, "2026-10-05T10:00:00+08:00", is_deleted=True),
            ]
        }
    )
    assert found(result, "customer_satisfaction") == [
        ("crm", "U1", Decimal(5), ONE, (50,)),
        ("crm", "U1", Decimal(4), ONE, (51,)),
        ("crm", "U1", Decimal(4), ONE, (52,)),
        ("crm", "U2", Decimal(1), ONE, (53,)),
    ]
    assert combined(result.observations, "customer_satisfaction") == {
        "U1": Decimal("4.33"),
        "U2": Decimal("1.00"),
    }


@pytest.mark.parametrize(
    ("score", "submitted_at", "reason", "detail"),
    [
        (6, "2026-10-02T10:00:00+08:00", "score_out_of_range", "score 6 is outside 1..5"),
        ("0", "2026-10-02T10:00:00+08:00", "score_out_of_range", "score '0' is outside 1..5"),
        ("very good", "2026-10-02T10:00:00+08:00", "bad_score", "score 'very good' is not a whole number"),  # noqa: E501
        (4.5, "2026-10-02T10:00:00+08:00", "bad_score", "score 4.5 is not a whole number"),
        (None, "2026-10-02T10:00:00+08:00", "bad_score", "score None is not a whole number"),
        (True, "2026-10-02T10:00:00+08:00", "bad_score", "score True is not a whole number"),
        (4, "02.10.2026", "bad_timestamp", "submitted_at '02.10.2026' is not an ISO 8601 time stamp"),  # noqa: E501
    ],
)  # fmt: skip
def test_a_survey_without_a_readable_score_from_1_to_5_is_quarantined(
    score: Any, submitted_at: str, reason: str, detail: str
) -> None:
    result = run(
        {
            "surveys": [
                survey(50, "SV-1", "U1", score, submitted_at),
                survey(51, "SV-2", "U1", 3, "2026-10-03T10:00:00+08:00"),
            ]
        }
    )
    assert found(result, "customer_satisfaction") == [("crm", "U1", Decimal(3), ONE, (51,))]
    assert quarantined(result) == [("surveys", "SV-1", 50, reason, detail)]


def test_a_bad_score_outside_the_month_waits_for_its_own_month() -> None:
    result = run({"surveys": [survey(50, "SV-1", "U1", 9, "2026-09-10T10:00:00+08:00")]})
    assert result.observations == [] and result.quarantined == []


def test_quarantined_records_name_the_crm_and_the_period() -> None:
    result = run({"surveys": [survey(50, "SV-1", "U1", 9, "2026-10-10T10:00:00+08:00")]})
    assert result.quarantined == [
        QuarantinedRecord(
            "crm", "surveys", "SV-1", 50, PERIOD, "score_out_of_range", "score 9 is outside 1..5"
        )
    ]
