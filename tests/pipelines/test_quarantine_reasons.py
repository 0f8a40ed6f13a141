"""Every quarantine reason a mapping gives, and the badge and card reasons of identity
resolution, through landing and normalisation: each bad record is kept in quarantine with its
reason and detail, counted in its source's finding for the period, and left out of the facts,
which are exactly what the good records landed beside it give.

One case per source and reason; a reason given in several places (an unreadable time stamp in
three CRM streams) has one bad record per place. CRM orders' own reasons and the CRM user
reasons are in ``test_normalise.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import Connector, discover
from connectors.sdk.timeparse import SHANGHAI
from pipelines.facts import current_facts, fact_inputs
from pipelines.normalise import normalise_source
from pipelines.stores import Stores
from schemas.catalog import load_catalog
from schemas.facts import ACTUAL, TARGET
from schemas.tables import Finding, QuarantineEntry, RecordHead
from tests.pipelines.landed import land

PERIOD = "2026-10"
RUN = "run-1"
ALL_KPIS = load_catalog().codes
Payload = dict[str, Any]
Records = dict[str, Payload]
Facts = dict[tuple[str, str, str], Decimal]
"""(job number, KPI code, kind) -> value."""


@dataclass(frozen=True)
class Landing:
    """Records of one stream, by record key, landed as one page."""

    source: str
    stream: str
    records: Records


@dataclass(frozen=True)
class Bad:
    """A landed record the normalised source must quarantine, and the detail HR reads."""

    source: str
    stream: str
    key: str
    payload: Payload
    detail: str


@dataclass(frozen=True)
class Case:
    """What the normalised ``source`` finds landed (the good records, then the bad ones), the
    one reason all its bad records are quarantined for, and the good records' facts."""

    id: str
    source: str
    reason: str
    good: tuple[Landing, ...]
    bad: tuple[Bad, ...]
    facts: Facts

    def landings(self) -> Iterable[Landing]:
        """One page per stream: a bad record lands in the same page as its good neighbours."""
        streams: dict[tuple[str, str], Records] = {}
        for landing in self.good:
            streams.setdefault((landing.source, landing.stream), {}).update(landing.records)
        for bad in self.bad:
            streams.setdefault((bad.source, bad.stream), {})[bad.key] = bad.payload
        for (source, stream), records in streams.items():
            yield Landing(source, stream, records)


def case(
    case_id: str, reason: str, good: Iterable[Landing], bad: Iterable[Bad], facts: Facts
) -> Case:
    """A case of the source named before the first ``-`` of its id."""
    return Case(case_id, case_id.split("-")[0], reason, tuple(good), tuple(bad), facts)


def of_e00001(**values: str) -> Facts:
    """E00001's actual facts, KPI code = value."""
    return {("E00001", kpi, ACTUAL): Decimal(value) for kpi, value in values.items()}


def epoch(day: int, hour: int, minute: int = 0) -> int:
    """Epoch seconds of a local Asia/Shanghai time in October 2026."""
    return int(datetime(2026, 10, day, hour, minute, tzinfo=SHANGHAI).timestamp())


def epoch_ms(day: int, hour: int = 0, minute: int = 0) -> int:
    return epoch(day, hour, minute) * 1000


# --- the directory: DingTalk users, HR_EMP and its badge and card history ---------------------


def dingtalk_users(*people: tuple[str, str]) -> Landing:
    """DingTalk directory users as (userid, job number)."""
    users = {
        userid: {
            "userid": userid,
            "name": f"员工{job_number[-1]}",
            "job_number": job_number,
            "email": f"{userid}@x.example",
        }
        for userid, job_number in people
    }
    return Landing("dingtalk", "users", users)


def employee(job_number: str, badge: str | None = None, card: str | None = None) -> Payload:
    """An HR_EMP row: the employee and the badge and card they hold now."""
    return {
        "FEMPNO": job_number,
        "FNAME": f"员工{job_number[-1]}",
        "FDEPTNAME": "一号产线",
        "FBADGE": badge,
        "FCARDNO": card,
        "FSTATUS": "A",
        "FMODIFYDATE": "2026-09-01T08:00:00",
    }


def hr_emp(*rows: Payload) -> Landing:
    return Landing("erp", "hr_emp", {row["FEMPNO"]: row for row in rows})


def holding(
    fid: int, job_number: str, since: str, badge: str | None = None, card: str | None = None
) -> Payload:
    """An HR_EMP_BADGE row: a badge or card held from ``since`` on, with no end."""
    return {
        "FID": fid,
        "FEMPNO": job_number,
        "FBADGE": badge,
        "FCARDNO": card,
        "FBEGINDATE": f"{since}T00:00:00",
        "FENDDATE": None,
        "FMODIFYDATE": f"{since}T00:00:00",
    }


def hr_emp_badge(*rows: Payload) -> Landing:
    return Landing("erp", "hr_emp_badge", {str(row["FID"]): row for row in rows})


# --- CRM --------------------------------------------------------------------------------------

SIGNED = "2026-10-08T10:00:00+08:00"
LATER = "2026-10-09T10:00:00+08:00"


def crm_user(user_id: str, job_number: str) -> Payload:
    return {
        "id": user_id,
        "name": f"员工{job_number[-1]}",
        "employee_no": job_number,
        "email": None,
        "updated_at": "2026-09-01T08:00:00+08:00",
    }


def crm_order(
    order_id: str, owner: str, customer: str, signed_at: str, status: str = "signed"
) -> Payload:
    return {
        "id": order_id,
        "customer_id": customer,
        "owner_id": owner,
        "amount": "1000.00",
        "currency": "CNY",
        "signed_at": signed_at,
        "status": status,
        "is_deleted": False,
        "updated_at": signed_at,
    }


def crm_customer(customer_id: str, first_order_at: str | None) -> Payload:
    return {
        "id": customer_id,
        "owner_id": "U1",
        "created_at": "2026-09-20T10:00:00+08:00",
        "first_order_at": first_order_at,
        "is_deleted": False,
        "updated_at": SIGNED,
    }


def crm_lead(lead_id: str, created_at: str, converted_order: str | None) -> Payload:
    return {
        "id": lead_id,
        "owner_id": "U1",
        "created_at": created_at,
        "status": "converted" if converted_order else "open",
        "converted_order_id": converted_order,
        "is_deleted": False,
        "updated_at": created_at,
    }


def crm_survey(survey_id: str, score: object, submitted_at: str = LATER) -> Payload:
    return {
        "id": survey_id,
        "order_id": "SO-1",
        "owner_id": "U1",
        "score": score,
        "submitted_at": submitted_at,
        "is_deleted": False,
        "updated_at": LATER,
    }


def crm(stream: str, **records: Payload) -> Landing:
    return Landing("crm", stream, records)


def crm_bad(stream: str, payload: Payload, detail: str) -> Bad:
    return Bad("crm", stream, payload["id"], payload, detail)


# U1 (E00001) signed SO-1 for 1000.00, which won the new customer C1 (so no repurchase) and
# converted L1; U1 was scored 4 on S1. Every CRM user is measured on contract_amount.
CRM_STAFF = (dingtalk_users(("u1", "E00001")), crm("users", U1=crm_user("U1", "E00001")))
SO_1 = crm("orders", **{"SO-1": crm_order("SO-1", "U1", "C1", SIGNED)})
C1 = crm("customers", C1=crm_customer("C1", SIGNED))
L1 = crm("leads", L1=crm_lead("L1", "2026-10-05T09:00:00+08:00", "SO-1"))
S1 = crm("surveys", S1=crm_survey("S1", 4))
NEW_CUSTOMER = of_e00001(contract_amount="1000.00", new_customers="1", repurchase_rate="0.00")
CONVERTED = of_e00001(contract_amount="1000.00", lead_conversion_rate="100.00")
SCORED = of_e00001(contract_amount="0", customer_satisfaction="4.00")
UNREADABLE_CANCELLED = crm_order("SO-9", "U1", "C1", "20.10.2026", "cancelled")

CRM_CASES = [
    case(
        "crm-bad_timestamp",
        "bad_timestamp",
        # SO-9 was cancelled, so it is not read for its own time stamp; L3 names it.
        [*CRM_STAFF, SO_1, C1, L1, S1, crm("orders", **{"SO-9": UNREADABLE_CANCELLED})],
        [
            crm_bad(
                "customers",
                crm_customer("C-BAD", "9 Oct 2026"),
                "first_order_at '9 Oct 2026' is not an ISO 8601 time stamp",
            ),
            crm_bad(
                "leads", crm_lead("L2", "", None), "created_at '' is not an ISO 8601 time stamp"
            ),
            crm_bad(
                "leads",
                crm_lead("L3", "2026-10-06T09:00:00+08:00", "SO-9"),
                "converted order SO-9 has signed_at '20.10.2026', not an ISO 8601 time stamp",
            ),
            crm_bad(
                "surveys",
                crm_survey("S-BAD", 5, submitted_at="yesterday"),
                "submitted_at 'yesterday' is not an ISO 8601 time stamp",
            ),
        ],
        of_e00001(
            contract_amount="1000.00",
            new_customers="1",
            repurchase_rate="0.00",
            lead_conversion_rate="100.00",
            customer_satisfaction="4.00",
        ),
    ),
    case(
        "crm-first_order_not_found",
        "first_order_not_found",
        [*CRM_STAFF, SO_1, C1],
        [
            crm_bad(
                "customers",
                crm_customer("C2", LATER),
                f"no order of customer C2 was signed at first_order_at {LATER!r}",
            )
        ],
        NEW_CUSTOMER,
    ),
    # Both of C2's first orders were cancelled later: they still say who won C2 (here, two
    # people), but count in no KPI, so C2 feeds no fact.
    case(
        "crm-ambiguous_first_order",
        "ambiguous_first_order",
        [
            dingtalk_users(("u1", "E00001"), ("u2", "E00002")),
            crm("users", U1=crm_user("U1", "E00001"), U2=crm_user("U2", "E00002")),
            SO_1,
            C1,
            crm(
                "orders",
                **{
                    "SO-2": crm_order("SO-2", "U1", "C2", LATER, "cancelled"),
                    "SO-3": crm_order("SO-3", "U2", "C2", LATER, "cancelled"),
                },
            ),
        ],
        [
            crm_bad(
                "customers",
                crm_customer("C2", LATER),
                f"orders SO-2, SO-3 of owners U1, U2 were all signed at first_order_at {LATER!r}",
            )
        ],
        {**NEW_CUSTOMER, ("E00002", "contract_amount", ACTUAL): Decimal(0)},
    ),
    case(
        "crm-unknown_order",
        "unknown_order",
        [*CRM_STAFF, SO_1, L1],
        [
            crm_bad(
                "leads",
                crm_lead("L2", "2026-10-06T09:00:00+08:00", "SO-404"),
                "status 'converted' but converted_order_id 'SO-404' names no landed order"
                " (missing or deleted)",
            )
        ],
        CONVERTED,
    ),
    case(
        "crm-bad_score",
        "bad_score",
        [*CRM_STAFF, S1],
        [
            crm_bad("surveys", crm_survey("S-HALF", 4.5), "score 4.5 is not a whole number"),
            crm_bad("surveys", crm_survey("S-TRUE", True), "score True is not a whole number"),
        ],
        SCORED,
    ),
    case(
        "crm-score_out_of_range",
        "score_out_of_range",
        [*CRM_STAFF, S1],
        [crm_bad("surveys", crm_survey("S-BAD", 0), "score 0 is outside 1..5")],
        SCORED,
    ),
]

# --- ERP --------------------------------------------------------------------------------------


def receipt(fid: int, saler: str, amount: str, day: str = "2026-10-12T10:00:00") -> Payload:
    return {
        "FID": fid,
        "FBILLNO": f"SK{fid:05d}",
        "FSALERNO": saler,
        "FRECAMOUNT": amount,
        "FDATE": day,
        "FDOCUMENTSTATUS": "C",
        "FMODIFYDATE": "2026-10-12T10:00:00",
    }


def target(job_number: str, kpi: str, value: str, period: str = PERIOD) -> Payload:
    return {
        "FEMPNO": job_number,
        "FPERIOD": period,
        "FKPI": kpi,
        "FTARGET": value,
        "FMODIFYDATE": "2026-09-28T10:00:00",
    }


def instock(fid: int, job_number: str, qty: str) -> Payload:
    return {
        "FID": fid,
        "FEMPNO": job_number,
        "FMATERIAL": "M-100",
        "FQTY": qty,
        "FDATE": "2026-10-14T16:00:00",
        "FDOCUMENTSTATUS": "C",
        "FMODIFYDATE": "2026-10-14T16:00:00",
    }


def cost(centre: str, manager: str, target_cost: str, actual: str, period: str = PERIOD) -> Payload:
    return {
        "FCOSTCENTER": centre,
        "FMANAGERNO": manager,
        "FPERIOD": period,
        "FTARGETCOST": target_cost,
        "FACTUALCOST": actual,
        "FMODIFYDATE": "2026-11-02T10:00:00",
    }


def erp_key(stream: str, row: Payload) -> str:
    """The landed key: FID, or the key columns joined by ``|``."""
    if stream == "sal_target":
        return f"{row['FEMPNO']}|{row['FPERIOD']}|{row['FKPI']}"
    if stream == "cb_cost":
        return f"{row['FCOSTCENTER']}|{row['FPERIOD']}"
    return str(row["FID"])


def erp(stream: str, *rows: Payload) -> Landing:
    return Landing("erp", stream, {erp_key(stream, row): row for row in rows})


def erp_bad(stream: str, row: Payload, detail: str) -> Bad:
    return Bad("erp", stream, erp_key(stream, row), row, detail)


# E00001 collected 2500.50, was planned 500 pieces, made 120 and ran CC1 50.00 under its
# 1000.00 target cost.
ERP_STAFF = hr_emp(employee("E00001"))
COLLECTED = erp("ar_receipt", receipt(1, "E00001", "2500.50"))
PLANNED = erp("sal_target", target("E00001", "output_qty", "500"))
MADE = erp("prd_instock", instock(1, "E00001", "120.0000"))
RUN_UNDER = erp("cb_cost", cost("CC1", "E00001", "1000.00", "950.00"))
COLLECTED_FACTS = of_e00001(collection_amount="2500.50")
PLANNED_FACTS = {("E00001", "output_qty", TARGET): Decimal(500)}

ERP_CASES = [
    case(
        "erp-bad_timestamp",
        "bad_timestamp",
        [ERP_STAFF, COLLECTED],
        [
            erp_bad(
                "ar_receipt",
                receipt(2, "E00001", "300.00", day="2026-10-32T10:00:00"),
                "FDATE '2026-10-32T10:00:00' is not an ISO 8601 time",
            )
        ],
        COLLECTED_FACTS,
    ),
    case(
        "erp-bad_value",
        "bad_value",
        [ERP_STAFF, COLLECTED, MADE],
        [
            erp_bad(
                "ar_receipt",
                receipt(2, "E00001", "1,000.00"),
                "FRECAMOUNT '1,000.00' is not a decimal number",
            ),
            erp_bad(
                "prd_instock",
                instock(2, "E00001", "NaN"),
                "FQTY 'NaN' is not a finite decimal number",
            ),
        ],
        {**COLLECTED_FACTS, **of_e00001(output_qty="120")},
    ),
    case(
        "erp-missing_person",
        "missing_person",
        [ERP_STAFF, COLLECTED],
        [
            erp_bad(
                "ar_receipt",
                receipt(2, " ", "300.00"),
                "FSALERNO is empty: the row names no employee",
            )
        ],
        COLLECTED_FACTS,
    ),
    case(
        "erp-bad_period",
        "bad_period",
        [ERP_STAFF, PLANNED],
        [
            erp_bad(
                "sal_target",
                target("E00001", "collection_amount", "9000", period="2026-13"),
                "FPERIOD '2026-13' is not a YYYY-MM period",
            )
        ],
        PLANNED_FACTS,
    ),
    case(
        "erp-unknown_kpi",
        "unknown_kpi",
        [ERP_STAFF, PLANNED],
        [
            erp_bad(
                "sal_target",
                target("E00001", "cost_control", "10"),
                "FKPI 'cost_control' is not a KPI the ERP sets targets for",
            )
        ],
        PLANNED_FACTS,
    ),
    case(
        "erp-non_positive_target_cost",
        "non_positive_target_cost",
        [ERP_STAFF, RUN_UNDER],
        [
            erp_bad(
                "cb_cost",
                cost("CC2", "E00001", "0.00", "10.00"),
                "FTARGETCOST '0.00' is not positive: no ratio to it",
            )
        ],
        of_e00001(cost_control="5.00"),
    ),
    # A job number that is in no directory: the core's reason for a direct job number.
    case(
        "erp-unknown_job_number",
        "unknown_job_number",
        [ERP_STAFF, COLLECTED],
        [
            erp_bad(
                "ar_receipt",
                receipt(2, "E09999", "300.00"),
                "job number E09999 is not in the directory",
            )
        ],
        COLLECTED_FACTS,
    ),
]

# --- QMS --------------------------------------------------------------------------------------


def inspection(
    inspection_id: str,
    badge: str = "B1",
    inspected: object = 100,
    qualified: object = 97,
    stage: str = "semi_finished",
    inspected_at: str = "2026-10-15 09:30:00",
) -> Payload:
    return {
        "inspection_id": inspection_id,
        "batch_no": f"B-{inspection_id}",
        "stage": stage,
        "operator_badge": badge,
        "line": "L1",
        "inspected_qty": inspected,
        "qualified_qty": qualified,
        "defect_codes": [],
        "inspected_at": inspected_at,
    }


def qms_bad(payload: Payload, detail: str) -> Bad:
    return Bad("qms", "inspections", payload["inspection_id"], payload, detail)


# E00001 holds badge B1 and passed 97 of the 100 pieces inspected on the 15th.
QMS_GOOD = [
    hr_emp(employee("E00001", badge="B1")),
    Landing("qms", "inspections", {"I-OK": inspection("I-OK")}),
]
QMS_FACTS = of_e00001(semi_finished_yield_rate="97.00")
NEWCOMERS = hr_emp(employee("E00002"), employee("E00003"))

QMS_CASES = [
    case(
        "qms-bad_timestamp",
        "bad_timestamp",
        QMS_GOOD,
        [
            qms_bad(
                inspection("I-BAD", inspected_at="15/10/2026 09:30"),
                "inspected_at '15/10/2026 09:30' is not a 'YYYY-MM-DD HH:MM:SS' local time",
            )
        ],
        QMS_FACTS,
    ),
    case(
        "qms-unknown_stage",
        "unknown_stage",
        QMS_GOOD,
        [
            qms_bad(
                inspection("I-BAD", stage="final"),
                "stage 'final' is neither 'semi_finished' nor 'finished'",
            )
        ],
        QMS_FACTS,
    ),
    case(
        "qms-bad_quantity",
        "bad_quantity",
        QMS_GOOD,
        [
            qms_bad(
                inspection("I-MISSING", inspected=None),
                "inspected_qty None is not a count of pieces",
            ),
            qms_bad(inspection("I-TEXT", qualified="ten"), "qualified_qty 'ten' is not a number"),
            qms_bad(
                inspection("I-HALF", inspected=10.5),
                "inspected_qty 10.5 is not a whole number of pieces",
            ),
            qms_bad(inspection("I-NEGATIVE", qualified=-3), "qualified_qty -3 is negative"),
        ],
        QMS_FACTS,
    ),
    case(
        "qms-qualified_exceeds_inspected",
        "qualified_exceeds_inspected",
        QMS_GOOD,
        [
            qms_bad(
                inspection("I-BAD", inspected=10, qualified=11),
                "qualified_qty 11 exceeds inspected_qty 10",
            )
        ],
        QMS_FACTS,
    ),
    # B2 goes to the new hire E00002 on the 20th: on the 15th nobody held it.
    case(
        "qms-unknown_person",
        "unknown_person",
        [*QMS_GOOD, NEWCOMERS, hr_emp_badge(holding(1, "E00002", "2026-10-20", badge="B2"))],
        [qms_bad(inspection("I-BAD", badge="B2"), "badge B2 was held by nobody on 2026-10-15")],
        QMS_FACTS,
    ),
    # B2 went to E00003 on the 1st, and E00002's holding was never closed.
    case(
        "qms-ambiguous_person",
        "ambiguous_person",
        [
            *QMS_GOOD,
            NEWCOMERS,
            hr_emp_badge(
                holding(1, "E00002", "2026-01-01", badge="B2"),
                holding(2, "E00003", "2026-10-01", badge="B2"),
            ),
        ],
        [
            qms_bad(
                inspection("I-BAD", badge="B2"),
                "badge B2 is held by 2 people on 2026-10-15: E00002, E00003",
            )
        ],
        QMS_FACTS,
    ),
]

# --- attendance terminals ---------------------------------------------------------------------


def shift(card: str, day: str, start: str = "08:00") -> Payload:
    return {"card_no": card, "date": day, "shift_start": start, "shift_end": "17:00", "rest": False}


def shifts(*rows: Payload) -> Landing:
    return Landing("attendance", "shifts", {f"{r['card_no']}|{r['date']}": r for r in rows})


def punch(card: str, at: object) -> Payload:
    return {"card_no": card, "device_id": "T1", "punch_time": at}


def punches(*rows: Payload) -> Landing:
    return Landing(
        "attendance", "punches", {f"{r['card_no']}|T1|{r['punch_time']}": r for r in rows}
    )


def leave(userid: str, start: object, end: object) -> Payload:
    return {
        "userid": userid,
        "start_time": start,
        "end_time": end,
        "duration_unit": "percent_day",
        "duration_percent": 100,
    }


def leave_key(row: Payload) -> str:
    return f"{row['userid']}|{row['start_time']}|{row['end_time']}"


def leaves(*rows: Payload) -> Landing:
    return Landing("dingtalk", "leave_status", {leave_key(row): row for row in rows})


# E00001 holds card C1, was due at 08:00 on the 15th and tapped in at 08:12: late once.
ATTENDANCE_GOOD = [
    hr_emp(employee("E00001", card="C1")),
    shifts(shift("C1", "2026-10-15")),
    punches(punch("C1", epoch(15, 8, 12))),
]
LATE_ONCE = of_e00001(late_count="1", absence_days="0")
# A punch time as text, and one a thousand times too large: neither is epoch seconds.
TEXT_PUNCH = punch("C1", "2026-10-16 08:00")
MILLISECOND_PUNCH = punch("C1", epoch_ms(16, 8))
CARD_C2 = "card C2 is held by 2 people on 2026-10-15: E00002, E00003"
SHIFT_C2 = shift("C2", "2026-10-15")
PUNCH_C2 = punch("C2", epoch(15, 7, 55))

ATTENDANCE_CASES = [
    case(
        "attendance-bad_date",
        "bad_date",
        ATTENDANCE_GOOD,
        [
            Bad(
                "attendance",
                "shifts",
                "C1|2026-10-16",
                shift("C1", "2026-10-32"),
                "date '2026-10-32' is not YYYY-MM-DD",
            )
        ],
        LATE_ONCE,
    ),
    case(
        "attendance-bad_shift",
        "bad_shift",
        ATTENDANCE_GOOD,
        [
            Bad(
                "attendance",
                "shifts",
                "C1|2026-10-16",
                shift("C1", "2026-10-16", start="8am"),
                "shift_start '8am' is not HH:MM on a working day",
            )
        ],
        LATE_ONCE,
    ),
    # The holder's readable leave excuses the 16th, when C1 did not tap in. The unreadable leave
    # is DingTalk's record: quarantined under DingTalk, counted in the terminals' finding.
    case(
        "attendance-bad_timestamp",
        "bad_timestamp",
        [
            *ATTENDANCE_GOOD,
            dingtalk_users(("u1", "E00001")),
            shifts(shift("C1", "2026-10-16")),
            leaves(leave("u1", epoch_ms(16, 7), epoch_ms(16, 18))),
        ],
        [
            Bad(
                "attendance",
                "punches",
                "C1|T1|2026-10-16 08:00",
                TEXT_PUNCH,
                "punch_time '2026-10-16 08:00' is not epoch seconds",
            ),
            Bad(
                "attendance",
                "punches",
                f"C1|T1|{epoch_ms(16, 8)}",
                MILLISECOND_PUNCH,
                f"punch_time {epoch_ms(16, 8)} is not epoch seconds",
            ),
        ],
        LATE_ONCE,
    ),
    # C2 went to E00003 on the 10th, and E00002's holding was never closed: the shift and the
    # punch of the 15th are on nobody.
    case(
        "attendance-ambiguous_person",
        "ambiguous_person",
        [
            *ATTENDANCE_GOOD,
            hr_emp(employee("E00002"), employee("E00003")),
            hr_emp_badge(
                holding(1, "E00002", "2026-01-01", card="C2"),
                holding(2, "E00003", "2026-10-10", card="C2"),
            ),
        ],
        [
            Bad("attendance", "shifts", "C2|2026-10-15", SHIFT_C2, CARD_C2),
            Bad("attendance", "punches", f"C2|T1|{epoch(15, 7, 55)}", PUNCH_C2, CARD_C2),
        ],
        LATE_ONCE,
    ),
]

# --- DingTalk ---------------------------------------------------------------------------------


def result(result_id: int, day: int, time_result: str, **changes: Any) -> Payload:
    """u1's OnDuty result of a working day with a 09:00 shift start."""
    return {
        "id": result_id,
        "userId": "u1",
        "workDate": epoch_ms(day),
        "checkType": "OnDuty",
        "timeResult": time_result,
        "baseCheckTime": epoch_ms(day, 9),
        "userCheckTime": epoch_ms(day, 9, 20) if time_result == "Late" else None,
        **changes,
    }


def results(*rows: Payload) -> Landing:
    return Landing("dingtalk", "attendance", {str(row["id"]): row for row in rows})


def dingtalk_bad(payload: Payload, detail: str) -> Bad:
    return Bad("dingtalk", "attendance", str(payload["id"]), payload, detail)


# u1 (E00001) was late on the 15th.
DINGTALK_GOOD = [dingtalk_users(("u1", "E00001")), results(result(1, 15, "Late"))]
MICROSECONDS = epoch_ms(16) * 1000

DINGTALK_CASES = [
    # The readable leave excuses the absence of the 16th.
    case(
        "dingtalk-bad_timestamp",
        "bad_timestamp",
        [
            *DINGTALK_GOOD,
            results(result(2, 16, "Absenteeism")),
            leaves(leave("u1", epoch_ms(16, 7), epoch_ms(16, 18))),
        ],
        [
            dingtalk_bad(
                result(3, 17, "Absenteeism", workDate="2026-10-17"),
                "workDate '2026-10-17' is not epoch milliseconds",
            ),
            dingtalk_bad(
                result(4, 18, "Late", baseCheckTime=None),
                "baseCheckTime None is not epoch milliseconds: cannot tell whether a leave "
                "covers the shift start",
            ),
            Bad(
                "dingtalk",
                "leave_status",
                leave_key(leave("u1", epoch_ms(19, 7), "tonight")),
                leave("u1", epoch_ms(19, 7), "tonight"),
                "end_time 'tonight' is not epoch milliseconds",
            ),
        ],
        LATE_ONCE,
    ),
    # A work date in microseconds is a whole number, but not a day: quarantined like any other.
    case(
        "dingtalk-bad_timestamp-work_date_out_of_range",
        "bad_timestamp",
        DINGTALK_GOOD,
        [
            dingtalk_bad(
                result(2, 16, "Absenteeism", workDate=MICROSECONDS),
                f"workDate {MICROSECONDS} is not epoch milliseconds",
            )
        ],
        LATE_ONCE,
    ),
    case(
        "dingtalk-unknown_time_result",
        "unknown_time_result",
        DINGTALK_GOOD,
        [
            dingtalk_bad(
                result(2, 16, "Outside"),
                "timeResult 'Outside' is not one of "
                "['Absenteeism', 'Early', 'Late', 'Normal', 'NotSigned', 'SeriousLate']",
            )
        ],
        LATE_ONCE,
    ),
    case(
        "dingtalk-approval_not_landed",
        "approval_not_landed",
        DINGTALK_GOOD,
        [
            dingtalk_bad(
                result(2, 16, "Absenteeism", procInstId="PI-404"),
                "Absenteeism on 2026-10-16 names approval PI-404, which has not landed: its "
                "process is not read or it was not pulled yet",
            )
        ],
        LATE_ONCE,
    ),
    case(
        "dingtalk-missing_user",
        "missing_user",
        DINGTALK_GOOD,
        [dingtalk_bad(result(2, 16, "Absenteeism", userId=" "), "userId ' ' is empty")],
        LATE_ONCE,
    ),
]

# --- evaluations ------------------------------------------------------------------------------


def evaluation(period: str, kpi: str, value: str, row: int) -> Payload:
    return {
        "key": f"E00001/{period}/{kpi}",
        "job_number": "E00001",
        "name": "员工1",
        "period": period,
        "kpi": kpi,
        "value": value,
        "comment": None,
        "evaluator": "E00009",
        "file": "evaluations-2026-10.csv",
        "file_sha256": "0" * 64,
        "row": row,
    }


def evaluation_bad(payload: Payload, detail: str) -> Bad:
    return Bad("evaluations", "evaluations", payload["key"], payload, detail)


GOOD_EVALUATION = evaluation(PERIOD, "manager_evaluation", "88.5", 2)
EVALUATIONS_GOOD = [
    dingtalk_users(("u1", "E00001")),
    Landing("evaluations", "evaluations", {GOOD_EVALUATION["key"]: GOOD_EVALUATION}),
]
EVALUATED = of_e00001(manager_evaluation="88.50")

EVALUATIONS_CASES = [
    case(
        "evaluations-bad_period",
        "bad_period",
        EVALUATIONS_GOOD,
        [
            evaluation_bad(
                evaluation("2026-13", "project_progress_rate", "90", 3),
                "period '2026-13' is not a YYYY-MM month",
            )
        ],
        EVALUATED,
    ),
    case(
        "evaluations-unknown_kpi",
        "unknown_kpi",
        EVALUATIONS_GOOD,
        [
            evaluation_bad(
                evaluation(PERIOD, "late_count", "2", 3),
                "KPI 'late_count' is not one of manager_evaluation, project_progress_rate, "
                "innovation_contribution",
            )
        ],
        EVALUATED,
    ),
    case(
        "evaluations-bad_value",
        "bad_value",
        EVALUATIONS_GOOD,
        [
            evaluation_bad(
                evaluation(PERIOD, "innovation_contribution", "n/a", 3),
                "value 'n/a' is not a decimal",
            )
        ],
        EVALUATED,
    ),
]

CASES = [
    *CRM_CASES,
    *ERP_CASES,
    *QMS_CASES,
    *ATTENDANCE_CASES,
    *DINGTALK_CASES,
    *EVALUATIONS_CASES,
]


@pytest.fixture(scope="module")
def connectors() -> dict[str, Connector]:
    return dict(discover())


def test_every_case_has_its_own_id_and_bad_records() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    for each in CASES:
        landed = {(g.source, g.stream, key) for g in each.good for key in g.records}
        bad = [(b.source, b.stream, b.key) for b in each.bad]
        assert len(set(bad)) == len(bad), each.id
        assert landed.isdisjoint(bad), each.id


@pytest.mark.parametrize("each", CASES, ids=[c.id for c in CASES])
def test_a_quarantined_record_is_kept_counted_and_left_out_of_the_facts(
    stores: Stores, connectors: dict[str, Connector], each: Case
) -> None:
    for landing in each.landings():
        land(stores, landing.source, landing.stream, landing.records, RUN)
    normalise_source(stores.hub, connectors[each.source], PERIOD, RUN, connectors)
    with Session(stores.hub) as session:
        heads = {
            (h.source, h.stream, h.record_key): h.version_id
            for h in session.scalars(select(RecordHead))
        }
        entries = session.execute(
            select(
                QuarantineEntry.source,
                QuarantineEntry.stream,
                QuarantineEntry.record_key,
                QuarantineEntry.raw_version_id,
                QuarantineEntry.period,
                QuarantineEntry.reason,
                QuarantineEntry.detail,
                QuarantineEntry.run_id,
            )
        ).all()
        findings = [
            (f.check_name, f.subject, f.period, f.severity, f.status, f.count, f.detail)
            for f in session.scalars(select(Finding))
        ]
        facts = current_facts(session, PERIOD, ALL_KPIS, kind=None)
        values = {(f.job_number, f.kpi_code, f.kind): f.value for f in facts}
        sources = {f.source for f in facts}
        inputs = fact_inputs(session, [f.id for f in facts])
    bad_versions = [heads[b.source, b.stream, b.key] for b in each.bad]
    expected = [
        (b.source, b.stream, b.key, version, PERIOD, each.reason, b.detail, RUN)
        for b, version in zip(each.bad, bad_versions, strict=True)
    ]
    # 1. Kept in quarantine, once each, with the reason and what is wrong with the record.
    assert sorted(tuple(e) for e in entries) == sorted(expected)
    # 2. Counted in the source's finding for the period.
    assert findings == [
        (
            f"{each.source}.quarantined_records",
            each.source,
            PERIOD,
            "WARN",
            "open",
            len(each.bad),
            {"by_reason": {each.reason: len(each.bad)}},
        )
    ]
    # 3. Out of the facts, which are exactly those of the good records.
    assert values == each.facts
    assert sources == {each.source}
    fed = {version for versions in inputs.values() for version in versions}
    assert fed.isdisjoint(bad_versions)
