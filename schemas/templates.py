"""Scoring templates: data, not code. A company edits the YAML; a mistake is reported with the
file, the path inside it and why."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.catalog import Catalog, load_catalog
from schemas.yamlfile import load_yaml_model


class TemplateError(ValueError):
    """A scoring template could not be loaded; the message names file, path and reason."""


class Component(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kpi: str
    weight: Decimal = Field(gt=0, le=1)
    target: Decimal = Field(gt=0)
    direction: Literal["higher_is_better", "lower_is_better"] = "higher_is_better"
    cap: Decimal = Field(default=Decimal("1.2"), gt=0)


class GradeBand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: str
    min_total: Decimal


class AppliesTo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    departments: list[str] = Field(min_length=1)


class ScoringTemplate(BaseModel):
    """One role's template: weighted components, grade bands and who it applies to."""

    model_config = ConfigDict(extra="forbid")

    code: str
    version: str
    name: str
    applies_to: AppliesTo
    components: list[Component] = Field(min_length=1)
    grades: list[GradeBand] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ScoringTemplate:
        total = sum((c.weight for c in self.components), Decimal(0))
        if total != Decimal(1):
            raise ValueError(f"component weights add up to {total}, not 1")
        kpis = [c.kpi for c in self.components]
        if len(set(kpis)) != len(kpis):
            raise ValueError("a KPI appears in more than one component")
        mins = [g.min_total for g in self.grades]
        if mins != sorted(mins, reverse=True):
            raise ValueError("grades must be listed from the highest min_total down")
        if mins[-1] != 0:
            raise ValueError("the last grade must have min_total 0 so every total gets a grade")
        return self

    def applies(self, department: str) -> bool:
        parts = department.split("/")
        return any(d in parts for d in self.applies_to.departments)

    def grade_for(self, total: Decimal) -> str:
        for band in self.grades:
            if total >= band.min_total:
                return band.grade
        return self.grades[-1].grade


def load_template(path: Path) -> ScoringTemplate:
    return load_yaml_model(path, ScoringTemplate, TemplateError)


def load_templates(folder: Path, catalog: Catalog | None = None) -> list[ScoringTemplate]:
    """Every template in ``folder``; a component scoring a KPI the catalog lacks is an error."""
    catalog = catalog if catalog is not None else load_catalog()
    paths = sorted(folder.glob("*.yaml"))
    templates = [load_template(p) for p in paths]
    for path, template in zip(paths, templates, strict=True):
        for index, component in enumerate(template.components):
            if component.kpi not in catalog:
                raise TemplateError(
                    f"{path}: components.{index}.kpi: {component.kpi!r} is not in the KPI catalog"
                )
    codes = [t.code for t in templates]
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise TemplateError(f"{folder}: template code(s) defined twice: {', '.join(duplicated)}")
    return templates
