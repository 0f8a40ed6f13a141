"""The KPI catalog: what every KPI code means, in words a manager can read, and how it behaves.

Mappings produce facts only for codes in the catalog, templates may only score catalogued KPIs,
and a typo in either is reported with the file, the path inside it and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from schemas.yamlfile import load_yaml_model

DEFAULT_CATALOG = Path(__file__).resolve().parent.parent / "pipelines" / "kpis.yaml"
Source = Literal["crm", "erp", "qms", "attendance", "dingtalk", "evaluations"]
SOURCES: tuple[str, ...] = get_args(Source)
CODE_PATTERN = r"^[a-z][a-z0-9_]*$"


class CatalogError(ValueError):
    """The KPI catalog could not be loaded or is inconsistent; the message says where and why."""


class Kpi(BaseModel):
    """One KPI as HR defines it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: Literal["CNY", "%", "count", "score", "pcs", "days", "points"]
    direction: Literal["higher_is_better", "lower_is_better"]
    sources: tuple[Source, ...] = Field(min_length=1)
    aggregation: Literal["sum", "count", "mean", "ratio", "latest"]
    decimals: int = Field(ge=0, le=6)
    definition: str = Field(min_length=10)
    target_source: Source | None = None


class Catalog(RootModel[list[Kpi]]):
    """The whole catalog, in the order HR listed it."""

    @model_validator(mode="after")
    def _unique_codes(self) -> Catalog:
        codes = [k.code for k in self.root]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"KPI code(s) defined twice: {', '.join(twice)}")
        return self

    def __contains__(self, code: object) -> bool:
        return any(k.code == code for k in self.root)

    def get(self, code: str) -> Kpi:
        for kpi in self.root:
            if kpi.code == code:
                return kpi
        raise KeyError(f"{code!r} is not in the KPI catalog")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(k.code for k in self.root)

    def from_source(self, source: str) -> tuple[Kpi, ...]:
        return tuple(k for k in self.root if source in k.sources)

    def unknown(self, codes: Iterable[str]) -> list[str]:
        """The codes of ``codes`` the catalog does not define, sorted."""
        return sorted({c for c in codes if c not in self})


def load_catalog(path: Path = DEFAULT_CATALOG) -> Catalog:
    return load_yaml_model(path, Catalog, CatalogError)
