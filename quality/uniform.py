"""An evaluator who gives everyone the same value: a month of evaluations that all read alike
(every one 100, say) says more about the form-filling than about the people.

Facts are grouped by who gave them, a payload field of the records behind each fact (the KPI's
``anomaly.uniform_by`` in the catalog); a group of ``uniform_min_facts`` or more people whose
values are all equal is reported once for the stream and month, since it is the evaluator's
month that is in doubt, not any one person's value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from quality.fact_records import FactRecords
from quality.scores import Anomaly, robust_z
from schemas.catalog import Kpi

METHOD = "uniform_evaluator"


def uniform_anomalies(
    source: str, period: str, kpi: Kpi, facts: Sequence[FactRecords]
) -> list[Anomaly]:
    """One anomaly per stream and month listing every evaluator whose values were all equal."""
    field = kpi.anomaly.uniform_by
    if field is None:
        return []
    by_giver: dict[tuple[str, str], list[FactRecords]] = defaultdict(list)
    for fact in facts:
        givers = {(r.stream, str(r.payload.get(field) or "")) for r in fact.records}
        if len(givers) == 1:
            stream, giver = givers.pop()
            if giver:
                by_giver[(stream, giver)].append(fact)
    everyone = [float(f.value) for f in facts]
    flagged: dict[str, list[tuple[str, list[FactRecords]]]] = defaultdict(list)
    for (stream, giver), given in sorted(by_giver.items()):
        if len(given) >= kpi.anomaly.uniform_min_facts and len({f.value for f in given}) == 1:
            flagged[stream].append((giver, given))
    found: list[Anomaly] = []
    for stream, groups in sorted(flagged.items()):
        value = groups[0][1][0].value
        score = robust_z(float(value), everyone or [float(value)], absolute_floor=1)
        keys = tuple(sorted(r.record_key for _, g in groups for f in g for r in f.records))
        found.append(
            Anomaly(
                source, kpi.code, period, METHOD, score, stream=stream, value=str(value),
                record_keys=keys,
                extra={
                    "uniform_by": field,
                    "min_facts": kpi.anomaly.uniform_min_facts,
                    "message": f"{kpi.code} in {period}: "
                    + "; ".join(
                        f"{field} {giver} gives all {len(g)} people the same {g[0].value}"
                        for giver, g in groups
                    ),
                    "evaluators": [
                        {
                            field: giver,
                            "value": str(g[0].value),
                            "people": len(g),
                            "job_numbers": [f.job_number for f in g],
                        }
                        for giver, g in groups
                    ],
                },
            )
        )  # fmt: skip
    return found
