"""Scoring templates: data, not code. A company edits the YAML; a mistake is reported in one line
with the file, the path inside it and why.

A template says, for one role: who it applies to (``assign``), the weighted KPI components with
their targets, the adjustments applied after the total (attendance), how grades are given (a
forced distribution, absolute bands for small cohorts) and who enters the core talent pool. KPIs
are checked against the catalog while the file is read, and a component's direction comes from
the catalog unless the template overrides it, so the file a person reads is the rule that runs.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.catalog import CODE_PATTERN, Catalog, Source, load_catalog
from schemas.yamlfile import load_yaml_model

Direction = Literal["higher", "lower"]
WhenMissing = Literal["hold", "zero", "exclude"]
WhenAdjustmentMissing = Literal["hold", "skip"]
Rounding = Literal["ceil", "floor"]
DEFAULT_CAP = Decimal("1.2")
# Four decimals keep every product of the rules within the HR store's six decimal places:
# attainment (4) x 100 x weight (4) is at most 6 decimals, and so is their sum.
Weight = Annotated[Decimal, Field(gt=0, le=1, decimal_places=4)]
Factor = Annotated[Decimal, Field(ge=0, decimal_places=4)]


class TemplateError(ValueError):
    """A scoring template could not be loaded; the message names file, path and reason."""


def _refuse(reason: str) -> PydanticCustomError:
    """A validation error whose message is ``reason`` as written, without pydantic's prefix."""
    return PydanticCustomError("template", "{reason}", {"reason": reason})


@cache
def _default_catalog() -> Catalog:
    return load_catalog()


def _catalog(info: ValidationInfo) -> Catalog:
    context = info.context or {}
    catalog = context.get("catalog")
    return catalog if isinstance(catalog, Catalog) else _default_catalog()


def _catalogued(code: str, info: ValidationInfo) -> str:
    if code not in _catalog(info):
        raise _refuse(f"{code!r} is not in the KPI catalog")
    return code


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Component(Strict):
    """One weighted KPI.

    ``target`` is the template's target; with ``target_from`` the person's own target fact from
    that source (the ERP's ``SAL_TARGET``) is used when there is one for the month, and ``target``
    is the fallback. ``when_missing`` says what a missing fact or target does: ``hold`` the score
    for HR, score the component ``zero``, or ``exclude`` it and spread its weight over the others.
    """

    kpi: str = Field(pattern=CODE_PATTERN)
    weight: Weight
    target: Decimal | None = Field(default=None, gt=0)
    target_from: Source | None = None
    direction: Direction | None = None
    cap: Factor = Field(default=DEFAULT_CAP, gt=0)
    when_missing: WhenMissing = "hold"

    @field_validator("kpi")
    @classmethod
    def _in_catalog(cls, code: str, info: ValidationInfo) -> str:
        return _catalogued(code, info)

    @field_validator("target_from")
    @classmethod
    def _catalog_takes_that_target(cls, source: str | None, info: ValidationInfo) -> str | None:
        code = info.data.get("kpi")
        if source is None or code is None:
            return source
        taken = _catalog(info).get(code).target_source
        if source != taken:
            raise _refuse(
                f"the KPI catalog takes no {source} target for {code} "
                f"(its target_source is {taken or 'none'})"
            )
        return source

    @model_validator(mode="after")
    def _target_and_direction(self, info: ValidationInfo) -> Component:
        kpi = _catalog(info).get(self.kpi)
        if self.target is None and self.target_from is None:
            raise _refuse("a component needs a target, a target_from source, or both")
        if self.direction is None:
            direction = "lower" if kpi.direction == "lower_is_better" else "higher"
            object.__setattr__(self, "direction", direction)
        return self

    @property
    def resolved_direction(self) -> Direction:
        """The direction the rules use: the override, else the catalog's (set while loading)."""
        assert self.direction is not None
        return self.direction


class MultiplyAdjustment(Strict):
    """Multiply the total by ``factor`` when the KPI's value is more than ``more_than``
    (late more than 3 times in the month: x 0.9)."""

    rule: str = Field(pattern=CODE_PATTERN)
    kind: Literal["multiply"]
    kpi: str = Field(pattern=CODE_PATTERN)
    more_than: Decimal = Field(ge=0)
    factor: Factor
    when_missing: WhenAdjustmentMissing = "hold"

    @field_validator("kpi")
    @classmethod
    def _in_catalog(cls, code: str, info: ValidationInfo) -> str:
        return _catalogued(code, info)


class SubtractAdjustment(Strict):
    """Subtract ``per_unit`` points for every unit of the KPI (5 points per absence day)."""

    rule: str = Field(pattern=CODE_PATTERN)
    kind: Literal["subtract"]
    kpi: str = Field(pattern=CODE_PATTERN)
    per_unit: Factor = Field(gt=0)
    when_missing: WhenAdjustmentMissing = "hold"

    @field_validator("kpi")
    @classmethod
    def _in_catalog(cls, code: str, info: ValidationInfo) -> str:
        return _catalogued(code, info)


Adjustment = Annotated[MultiplyAdjustment | SubtractAdjustment, Field(discriminator="kind")]


class Share(Strict):
    """The grade given to a share of a cohort, and how the head count of that share rounds."""

    grade: str = Field(min_length=1)
    share: Decimal = Field(ge=0, le=1)
    rounding: Rounding


class Distribution(Strict):
    """Forced distribution among a cohort's final scores: the top share, the bottom share, the
    rest in between. A cohort smaller than ``min_cohort`` is graded by the bands instead, because
    10% of five people is not a person."""

    min_cohort: int = Field(default=10, ge=1)
    top: Share
    bottom: Share
    middle: str = Field(min_length=1)

    @model_validator(mode="after")
    def _shares_fit(self) -> Distribution:
        if self.top.share + self.bottom.share > 1:
            raise _refuse(
                f"top share {self.top.share} and bottom share {self.bottom.share} add up to "
                "more than 1"
            )
        return self


class Band(Strict):
    grade: str = Field(min_length=1)
    min_total: Decimal = Field(ge=0)


class Grading(Strict):
    distribution: Distribution
    bands: list[Band] = Field(min_length=1)

    @field_validator("bands")
    @classmethod
    def _bands_cover_every_total(cls, bands: list[Band]) -> list[Band]:
        mins = [b.min_total for b in bands]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise _refuse("bands must be listed from the highest min_total down")
        if mins[-1] != 0:
            raise _refuse("the last band must have min_total 0 so every total gets a grade")
        return bands

    @property
    def grades(self) -> tuple[str, ...]:
        """Every grade this grading can give, best first."""
        found = [self.distribution.top.grade, self.distribution.middle]
        found += [self.distribution.bottom.grade] + [b.grade for b in self.bands]
        return tuple(dict.fromkeys(found))


class TalentPool(Strict):
    """Who enters the core talent pool: a grade among ``grades``, a final (not held) score, and
    no open ERROR finding on the facts the score read."""

    grades: list[str] = Field(min_length=1)
    require_final: bool = True
    require_no_open_errors: bool = True


class AssignRule(Strict):
    """Who a template applies to. ``department`` matches the person's department or any
    department above it; ``title`` the directory's job title; ``leader`` the directory's leader
    flag. Every condition given must hold; a rule with more conditions, or with as many and a
    deeper department, is more specific and wins over a less specific one of another template."""

    department: str | None = Field(default=None, min_length=1)
    title: str | None = Field(default=None, min_length=1)
    leader: bool | None = None

    @model_validator(mode="after")
    def _says_something(self) -> AssignRule:
        if self.department is None and self.title is None and self.leader is None:
            raise _refuse("a rule needs at least one of department, title, leader")
        return self


class ManualAdjustments(Strict):
    """Who may add points to or take points off a score of this template by hand, and how many
    at most. HR always may; a manager's adjustment still waits for HR's approval."""

    by_managers: bool = False
    max_points: Decimal = Field(default=Decimal(20), gt=0, decimal_places=2)


class ScoringTemplate(Strict):
    """One role's template, as read from its YAML file."""

    code: str = Field(pattern=CODE_PATTERN)
    version: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1)
    assign: list[AssignRule] = Field(min_length=1)
    components: list[Component] = Field(min_length=1)
    adjustments: list[Adjustment] = Field(default_factory=list)
    manual_adjustments: ManualAdjustments = Field(default_factory=ManualAdjustments)
    grading: Grading
    talent_pool: TalentPool

    _path: Path | None = PrivateAttr(default=None)
    _sha256: str | None = PrivateAttr(default=None)

    @field_validator("components")
    @classmethod
    def _weights_and_kpis(cls, components: list[Component]) -> list[Component]:
        total = sum((c.weight for c in components), Decimal(0))
        if total != 1:
            raise _refuse(f"component weights add up to {total}, not 1")
        kpis = [c.kpi for c in components]
        twice = sorted({k for k in kpis if kpis.count(k) > 1})
        if twice:
            raise _refuse(f"KPI(s) in more than one component: {', '.join(twice)}")
        return components

    @field_validator("adjustments")
    @classmethod
    def _rules_named_once(cls, adjustments: list[Any]) -> list[Any]:
        rules = [a.rule for a in adjustments]
        twice = sorted({r for r in rules if rules.count(r) > 1})
        if twice:
            raise _refuse(f"adjustment rule(s) named twice: {', '.join(twice)}")
        return adjustments

    @field_validator("talent_pool")
    @classmethod
    def _talent_pool_grades_exist(cls, pool: TalentPool, info: ValidationInfo) -> TalentPool:
        grading = info.data.get("grading")
        if grading is None:
            return pool
        unknown = [g for g in pool.grades if g not in grading.grades]
        if unknown:
            raise _refuse(
                f"grade(s) {', '.join(unknown)} are not given by the grading "
                f"({', '.join(grading.grades)})"
            )
        return pool

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def content_sha256(self) -> str:
        """The hash of the file as read: two scores with the same hash used the same rules."""
        assert self._sha256 is not None, "the template was not loaded from a file"
        return self._sha256


def load_template(path: Path, catalog: Catalog | None = None) -> ScoringTemplate:
    """One template file, checked against ``catalog`` (the hub's catalog by default)."""
    context = {"catalog": catalog} if catalog is not None else None
    template = load_yaml_model(path, ScoringTemplate, TemplateError, context)
    template._path = path
    try:
        template._sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read: {exc.strerror}") from None
    return template


def load_templates(folder: Path, catalog: Catalog | None = None) -> list[ScoringTemplate]:
    """Every template in ``folder``, in file name order; a code defined twice is an error."""
    if not folder.is_dir():
        raise TemplateError(f"{folder}: the templates folder does not exist (KPIHUB_TEMPLATES_DIR)")
    catalog = catalog if catalog is not None else _default_catalog()
    templates = [load_template(p, catalog) for p in sorted(folder.glob("*.yaml"))]
    if not templates:
        raise TemplateError(f"{folder}: no scoring template (*.yaml) found (KPIHUB_TEMPLATES_DIR)")
    seen: dict[str, Path | None] = {}
    for template in templates:
        if template.code in seen:
            raise TemplateError(
                f"{template.path}: code: template code {template.code!r} is already defined "
                f"in {seen[template.code]}"
            )
        seen[template.code] = template.path
    return templates
