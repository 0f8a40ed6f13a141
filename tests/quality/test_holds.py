"""Which findings touch which scores: the person named, or a source a score read a fact from;
a finding naming a KPI touches only scores that read it. Rows written with only a subject are
read as the subject says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quality.holds import finding_id, hold_reason, release_reason, touches
from schemas.tables import Finding

AT = datetime(2026, 11, 2, tzinfo=UTC)
READ = {("crm", "contract_amount"), ("dingtalk", "late_count")}


def finding(subject: str, **place: str | None) -> Finding:
    return Finding(
        id=7, check_name="crm.check", kind="anomaly", severity="ERROR", subject=subject,
        period="2026-10", status="open", count=2, detail={}, created_at=AT, updated_at=AT,
        **place,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("row", "touched"),
    [
        (finding("E00001", source="crm", job_number="E00001"), True),
        (finding("E00002", source="crm", job_number="E00002"), False),
        (finding("E00001", source="qms", job_number="E00001", kpi_code="contract_amount"), True),
        (finding("E00001", source="crm", job_number="E00001", kpi_code="output_qty"), False),
        (finding("crm", source="crm"), True),
        (finding("crm/orders", source="crm", stream="orders"), True),
        (finding("crm/orders", source="crm", stream="orders", kpi_code="contract_amount"), True),
        (finding("crm/orders", source="crm", stream="orders", kpi_code="late_count"), False),
        (finding("qms/inspections", source="qms", stream="inspections"), False),
        (finding("E00001"), True),
        (finding("dingtalk/attendance"), True),
        (finding("erp"), False),
    ],
)
def test_a_finding_touches_the_person_or_a_source_of_their_facts(
    row: Finding, touched: bool
) -> None:
    assert touches(row, "E00001", READ) is touched


def test_a_person_with_no_facts_read_is_touched_only_by_a_finding_naming_them() -> None:
    assert touches(finding("E00001", source="crm", job_number="E00001"), "E00001", set())
    assert not touches(finding("crm", source="crm"), "E00001", set())


def test_reasons_name_the_finding_and_the_decision() -> None:
    row = finding("crm/orders", source="crm", stream="orders")
    assert hold_reason(row) == "finding 7 (ERROR crm.check): 2 flagged in crm/orders"
    row.detail = {"message": "412 orders, 930 expected"}
    assert hold_reason(row) == "finding 7 (ERROR crm.check): 412 orders, 930 expected"
    assert finding_id(hold_reason(row)) == 7
    assert finding_id("contract_amount: no fact for 2026-10") is None
    row.status, row.changed_by, row.note = "dismissed", "alice", "a holiday week"
    assert release_reason(row) == "finding 7 dismissed by alice: a holiday week"
