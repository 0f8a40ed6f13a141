"""What the CRM's records must look like (specs: every object has ``id`` and ``updated_at``;
money as decimal text in CNY; the statuses listed), checked on each pull's new versions."""

from __future__ import annotations

from connectors.sdk.expectations import StreamSuites, one_of, required, within

SUITES: StreamSuites = {
    "users": required("id", "name", "updated_at"),
    "orders": (
        *required("id", "customer_id", "owner_id", "amount", "signed_at", "status", "updated_at"),
        one_of("status", ("signed", "cancelled")),
        one_of("currency", ("CNY",)),
        within("amount", 0),
    ),
    "leads": (
        *required("id", "owner_id", "created_at", "status", "updated_at"),
        one_of("status", ("new", "qualified", "converted", "lost")),
    ),
    "customers": required("id", "owner_id", "created_at", "updated_at"),
    "surveys": (
        *required("id", "order_id", "owner_id", "score", "submitted_at", "updated_at"),
        within("score", 1, 5),
    ),
}
