"""The core talent pool: who of a graded cohort enters it, by the template's rule."""

from __future__ import annotations

from pipelines.scoring import FINAL
from schemas.templates import TalentPool


def in_talent_pool(
    rule: TalentPool, *, grade: str | None, status: str, open_error_findings: int
) -> bool:
    """Graded one of the rule's grades, final (a held score has no grade yet) and, when the
    rule asks, with no open ERROR finding on the facts the score read: a score still in doubt
    does not put anyone in the pool."""
    if grade is None or grade not in rule.grades:
        return False
    if rule.require_final and status != FINAL:
        return False
    return not (rule.require_no_open_errors and open_error_findings > 0)
