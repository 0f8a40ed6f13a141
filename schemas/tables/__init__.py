"""SQLAlchemy tables of the two stores: the hub store (raw data, facts, findings) and the HR store
(published scores). They may share one database; they never share a metadata object, so each can
live on its own server and migrate on its own."""

from schemas.tables.hr import (
    Appeal,
    HrBase,
    Score,
    ScoreAdjustment,
    ScoreChange,
    ScoreComponent,
    ScoreReview,
)
from schemas.tables.hub import (
    AuditEntry,
    FactInput,
    Finding,
    HubBase,
    KpiFactRow,
    OutboxAlert,
    QuarantineEntry,
    RawRecordVersion,
    RecordHead,
    StreamLease,
    StreamState,
)

__all__ = [
    "Appeal",
    "AuditEntry",
    "FactInput",
    "Finding",
    "HrBase",
    "HubBase",
    "KpiFactRow",
    "OutboxAlert",
    "QuarantineEntry",
    "RawRecordVersion",
    "RecordHead",
    "Score",
    "ScoreAdjustment",
    "ScoreChange",
    "ScoreComponent",
    "ScoreReview",
    "StreamLease",
    "StreamState",
]
