"""What the ERP's rows must look like: documents carry their number, person, amount and date;
a Kingdee document status is one of its documented letters (only C, approved, counts); bill
numbers are unique; quantities and amounts are not negative."""

from __future__ import annotations

from connectors.sdk.expectations import StreamSuites, one_of, required, unique, within

DOCUMENT_STATUSES = ("A", "B", "C", "D", "Z")
"""Created, submitted, approved, re-audit, temporary."""

SUITES: StreamSuites = {
    "hr_emp": (*required("FEMPNO", "FNAME", "FSTATUS"), one_of("FSTATUS", ("A", "L"))),
    "hr_emp_badge": required("FID", "FEMPNO", "FBEGINDATE"),
    "ar_receipt": (
        *required("FID", "FBILLNO", "FSALERNO", "FRECAMOUNT", "FDATE", "FDOCUMENTSTATUS"),
        unique("FBILLNO"),
        one_of("FDOCUMENTSTATUS", DOCUMENT_STATUSES),
        within("FRECAMOUNT", 0, severity="WARN"),
    ),
    "sal_target": (
        *required("FEMPNO", "FPERIOD", "FKPI", "FTARGET"),
        within("FTARGET", 0),
    ),
    "prd_instock": (
        *required("FID", "FEMPNO", "FMATERIAL", "FQTY", "FDATE", "FDOCUMENTSTATUS"),
        one_of("FDOCUMENTSTATUS", DOCUMENT_STATUSES),
        within("FQTY", 0),
    ),
    "cb_cost": (
        *required("FCOSTCENTER", "FMANAGERNO", "FPERIOD", "FTARGETCOST", "FACTUALCOST"),
        within("FTARGETCOST", 0),
        within("FACTUALCOST", 0),
    ),
}
