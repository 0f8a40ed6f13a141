"""What the terminals' records must look like: a shift names its card and day; a punch its card,
terminal and time; a punch's direction, when the terminal sets one, is in or out."""

from __future__ import annotations

from connectors.sdk.expectations import StreamSuites, one_of, required, within

SUITES: StreamSuites = {
    "shifts": required("card_no", "date"),
    "punches": (
        *required("card_no", "device_id", "punch_time"),
        # A null direction is a terminal that does not say; GX leaves nulls out of the set.
        one_of("direction", ("in", "out")),
        within("punch_time", 0),
    ),
}
