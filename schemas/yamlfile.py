"""Configuration files a company edits by hand (scoring templates, the KPI catalog).

One loader for all of them, so every mistake is reported the same way: the file, the path inside
it (``components.0.weight``) and why, in one line an HR analyst can act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)


def load_yaml_model(path: Path, model: type[Model], error: type[ValueError]) -> Model:
    """Parse ``path`` as YAML into ``model``; raise ``error`` naming file, path and reason."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise error(f"{path}: {where}: {first['msg']}") from None
