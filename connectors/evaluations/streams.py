"""The one evaluations stream: a record per (job number, period, KPI), keyed ``E00001/2026-10/
manager_evaluation``. Not incremental by cursor: the state lists the files already imported."""

from __future__ import annotations

from connectors.evaluations.records import EvaluationRecord
from connectors.sdk.stream import Stream

EVALUATIONS = Stream(name="evaluations", record_key="key", record_schema=EvaluationRecord)
STREAMS = (EVALUATIONS,)
