"""Normalisation after landing: each quarantine reason keeps its record out of the facts and
counts it in the source's finding; a re-run adds nothing; a changed record restates only the
facts it fed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.registry import Connector, DirectoryEntry, PersonLink, discover
from pipelines.facts import current_facts
from pipelines.identity import IdentityResolver, Unresolved
from pipelines.normalise import normalise_source
from pipelines.stores import Stores
from schemas.facts import PersonRef
from schemas.tables import AuditEntry, Finding, KpiFactRow, QuarantineEntry
from tests.pipelines.landed import land

PERIOD = "2026-10"


def order(owner: str, amount: str = "1000.00", **changes: Any) -> dict[str, Any]:
    return {
        "owner_id": owner,
        "customer_id": "C1",
        "amount": amount,
        "currency": "CNY",
        "signed_at": "2026-10-08T10:00:00+08:00",
        "status": "signed",
        "is_deleted": False,
        **changes,
    }


DIRECTORY = {
    "u1": {"userid": "u1", "name": "王伟", "job_number": "E00001", "email": "e1@x.example"},
    "u2": {"userid": "u2", "name": "李娜", "job_number": "E00002", "email": "same@x.example"},
    "u3": {"userid": "u3", "name": "张敏", "job_number": "E00003", "email": "same@x.example"},
}
CRM_USERS = {
    "U1": {"id": "U1", "employee_no": "E00001", "email": "e1@x.example"},
    "U2": {"id": "U2", "employee_no": None, "email": "same@x.example"},
    "U9": {"id": "U9", "employee_no": "E09999", "email": None},
}
# One order per reason, and one that is fine.
ORDERS = {
    "SO-OK": order("U1"),
    "SO-STRANGER": order("U7"),
    "SO-AMBIGUOUS": order("U2"),
    "SO-LEFT-THE-DIRECTORY": order("U9"),
    "SO-BAD-TIME": order("U1", signed_at="8 Oct 2026"),
    "SO-BAD-AMOUNT": order("U1", amount="1,000.00"),
    "SO-USD": order("U1", currency="USD"),
}
REASONS = {
    "SO-STRANGER": ("unknown_person", "crm U7 is not known to any directory"),
    "SO-AMBIGUOUS": (
        "ambiguous_person",
        "crm U2: e-mail same@x.example matches 2 employees (E00002, E00003)",
    ),
    "SO-LEFT-THE-DIRECTORY": (
        "unknown_job_number",
        "crm U9 carries job number E09999, which is not in the directory",
    ),
    "SO-BAD-TIME": ("bad_timestamp", "signed_at '8 Oct 2026' is not an ISO 8601 time stamp"),
    "SO-BAD-AMOUNT": ("bad_amount", "amount '1,000.00' is not a decimal"),
    "SO-USD": ("unsupported_currency", "currency 'USD' is not CNY"),
}


@pytest.fixture(scope="module")
def connectors() -> dict[str, Connector]:
    return dict(discover())


def land_crm(stores: Stores, orders: dict[str, dict[str, Any]], run_id: str) -> None:
    land(stores, "dingtalk", "users", DIRECTORY, run_id)
    land(stores, "crm", "users", CRM_USERS, run_id)
    land(stores, "crm", "orders", orders, run_id)


def contract_facts(stores: Stores) -> dict[str, tuple[Decimal, int]]:
    with Session(stores.hub) as session:
        return {
            f.job_number: (f.value, f.version)
            for f in current_facts(session, PERIOD, ["contract_amount"])
        }


@pytest.mark.parametrize("order_key", sorted(REASONS))
def test_each_quarantine_reason_keeps_the_record_out_and_counts_it(
    stores: Stores, connectors: dict[str, Connector], order_key: str
) -> None:
    land_crm(stores, {"SO-OK": ORDERS["SO-OK"], order_key: ORDERS[order_key]}, "run-1")
    stats = normalise_source(stores.hub, connectors["crm"], PERIOD, "run-1", connectors)
    reason, detail = REASONS[order_key]
    assert stats.quarantined_by_reason == {reason: 1}
    with Session(stores.hub) as session:
        entries = session.execute(
            select(
                QuarantineEntry.stream,
                QuarantineEntry.record_key,
                QuarantineEntry.reason,
                QuarantineEntry.detail,
            )
        ).all()
        finding = session.scalars(select(Finding)).one()
    assert [tuple(e) for e in entries] == [("orders", order_key, reason, detail)]
    assert (finding.check_name, finding.period, finding.count, finding.status) == (
        "crm.quarantined_records",
        PERIOD,
        1,
        "open",
    )
    assert finding.detail == {"by_reason": {reason: 1}}
    # Only the good order is in E00001's fact; nobody got the quarantined one.
    assert contract_facts(stores)["E00001"] == (Decimal("1000.00"), 1)
    assert sum(v for v, _ in contract_facts(stores).values()) == Decimal("1000.00")


def test_a_second_run_on_the_same_records_adds_no_version(
    stores: Stores, connectors: dict[str, Connector]
) -> None:
    land_crm(stores, ORDERS, "run-1")
    normalise_source(stores.hub, connectors["crm"], PERIOD, "run-1", connectors)
    again = normalise_source(stores.hub, connectors["crm"], PERIOD, "run-2", connectors)
    assert (again.stored.created, again.stored.corrected, again.stored.retired) == (0, 0, 0)
    with Session(stores.hub) as session:
        assert session.scalar(select(func.count()).select_from(KpiFactRow)) == 1
        assert session.scalar(select(func.count()).select_from(QuarantineEntry)) == 6
        assert session.scalars(select(Finding)).one().count == 6


def test_a_changed_record_restates_only_the_fact_it_fed(
    stores: Stores, connectors: dict[str, Connector]
) -> None:
    users = {**CRM_USERS, "U3": {"id": "U3", "employee_no": "E00003", "email": None}}
    orders = {"SO-1": order("U1", "500.00"), "SO-2": order("U1"), "SO-3": order("U3", "70.50")}
    land(stores, "dingtalk", "users", DIRECTORY, "run-1")
    land(stores, "crm", "users", users, "run-1")
    land(stores, "crm", "orders", orders, "run-1")
    normalise_source(stores.hub, connectors["crm"], PERIOD, "run-1", connectors)
    assert contract_facts(stores) == {
        "E00001": (Decimal("1500.00"), 1),
        "E00003": (Decimal("70.50"), 1),
    }
    # SO-2 is cancelled after the month closed.
    land(stores, "crm", "orders", {**orders, "SO-2": order("U1", status="cancelled")}, "run-2")
    stats = normalise_source(stores.hub, connectors["crm"], PERIOD, "run-2", connectors)
    assert (stats.stored.corrected, stats.stored.unchanged, stats.stored.created) == (1, 1, 0)
    assert contract_facts(stores) == {
        "E00001": (Decimal("500.00"), 2),
        "E00003": (Decimal("70.50"), 1),
    }
    with Session(stores.hub) as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "fact.corrected"))
        (entry,) = list(audit)
        old = session.scalars(
            select(KpiFactRow).where(KpiFactRow.job_number == "E00001", KpiFactRow.version == 1)
        ).one()
    assert entry.subject == f"E00001/{PERIOD}/contract_amount"
    assert (entry.detail["old_value"], entry.detail["new_value"]) == ("1500", "500")
    assert [r["record_key"] for r in entry.detail["removed"]] == ["SO-2"]
    assert "replaced_by_version" in entry.detail["removed"][0]
    assert (old.is_current, old.value) == (False, Decimal("1500.00"))


def badge(job_number: str, since: date | None, until: date | None) -> PersonLink:
    return PersonLink(PersonRef("badge", "BG00001"), job_number, None, 1, since, until)


WORKERS = [
    DirectoryEntry(job, "", "一号产线", None, PersonRef("erp", job)) for job in ("E00001", "E00002")
]


def test_a_badge_handed_over_mid_month_resolves_by_day() -> None:
    handover = date(2026, 10, 10)
    resolver = IdentityResolver.build(
        WORKERS, [badge("E00001", date(2020, 1, 1), handover), badge("E00002", handover, None)]
    )
    person = PersonRef("badge", "BG00001")
    assert resolver.resolve(person, date(2026, 10, 9)) == "E00001"
    assert resolver.resolve(person, handover) == "E00002"
    assert resolver.resolve(person, date(2019, 12, 31)) == Unresolved(
        "unknown_person", "badge BG00001 was held by nobody on 2019-12-31"
    )


def test_a_badge_held_by_two_people_on_one_day_is_ambiguous() -> None:
    resolver = IdentityResolver.build(
        WORKERS, [badge("E00001", None, None), badge("E00002", date(2026, 10, 1), None)]
    )
    assert resolver.resolve(PersonRef("badge", "BG00001"), date(2026, 10, 5)) == Unresolved(
        "ambiguous_person", "badge BG00001 is held by 2 people on 2026-10-05: E00001, E00002"
    )


def test_an_empty_id_names_no_one() -> None:
    resolver = IdentityResolver.build(WORKERS, [])
    assert resolver.resolve(PersonRef("job_number", " ")) == Unresolved(
        "missing_person", "the job number is empty: the record names no one"
    )
    assert resolver.resolve(PersonRef("badge", ""), date(2026, 10, 5)) == Unresolved(
        "missing_person", "the badge is empty: the record names no one"
    )
