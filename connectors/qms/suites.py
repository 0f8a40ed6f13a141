"""What an inspection must look like: its operator, stage and counts; a stage is semi-finished
or finished; counts are not negative. Qualified never exceeding inspected is the mapping's to
quarantine, row by row, since it compares two fields."""

from __future__ import annotations

from connectors.sdk.expectations import StreamSuites, one_of, required, within

SUITES: StreamSuites = {
    "inspections": (
        *required(
            "inspection_id", "stage", "operator_badge", "inspected_qty", "qualified_qty",
            "inspected_at",
        ),
        one_of("stage", ("semi_finished", "finished")),
        within("inspected_qty", 0),
        within("qualified_qty", 0),
    ),
}  # fmt: skip
