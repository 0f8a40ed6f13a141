"""customer_satisfaction: the mean score of the surveys submitted in the month, per survey owner.

Scores are whole numbers from 1 to 5, sent as numbers or numeric strings. Anything else would
bend the mean, so it is quarantined rather than clipped or dropped.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from connectors.crm.landed import crm_person, in_period, instant, quarantine
from connectors.registry import RecordReader
from schemas.facts import Observation, QuarantinedRecord

KPI = "customer_satisfaction"
LOWEST, HIGHEST = 1, 5


class UnreadableScore(ValueError):
    """A score that cannot enter the mean, with the quarantine reason and a detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def survey_score(raw: object) -> Decimal:
    """The score as a whole Decimal from 1 to 5, or UnreadableScore saying why it is not one."""
    text = str(raw).strip() if not isinstance(raw, bool) else ""
    try:
        score = Decimal(text)
    except InvalidOperation:
        score = Decimal("NaN")
    if not score.is_finite() or score != score.to_integral_value():
        raise UnreadableScore("bad_score", f"score {raw!r} is not a whole number")
    if not LOWEST <= score <= HIGHEST:
        raise UnreadableScore("score_out_of_range", f"score {raw!r} is outside {LOWEST}..{HIGHEST}")
    return Decimal(int(score))


def satisfaction(
    period: str, records: RecordReader
) -> tuple[list[Observation], list[QuarantinedRecord]]:
    """One mean term per survey submitted in the period: its score, weight 1, for its owner."""
    observations: list[Observation] = []
    quarantined: list[QuarantinedRecord] = []
    for head in records.heads("surveys"):
        survey = head.payload
        if survey.get("is_deleted"):
            continue
        try:
            submitted = instant(survey, "submitted_at")
        except ValueError as error:
            quarantined.append(quarantine("surveys", head, period, "bad_timestamp", str(error)))
            continue
        if not in_period(submitted, period):
            continue
        try:
            score = survey_score(survey.get("score"))
        except UnreadableScore as error:
            quarantined.append(quarantine("surveys", head, period, error.reason, error.detail))
            continue
        observations.append(
            Observation(
                crm_person(survey.get("owner_id")),
                KPI,
                score,
                weight=Decimal(1),
                inputs=(head.version_id,),
            )
        )
    return observations, quarantined
