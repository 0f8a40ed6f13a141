"""Configuration files a company edits by hand (scoring templates, the KPI catalog).

One loader for all of them, so every mistake is reported the same way: the file, the path inside
it (``components.0.weight``) and why, in one line an HR analyst can act on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it: the catalog is read several times by
every command that shows a value, and the pure-Python parser takes longer than the rest of the
command. It builds the same data; a file it refuses is parsed again by the pure-Python loader,
whose messages (line, column, problem) are the ones reported."""


def yaml_path(data: Any, loc: Sequence[int | str]) -> str:
    """The path of an error as it reads in the file.

    Pydantic puts the tag of a tagged union into the location (``adjustments.0.multiply.factor``);
    the file has no such key, so a segment that is not a key of its mapping but one of its values
    (the tag) is left out.
    """
    parts: list[str] = []
    node = data
    for segment in loc:
        if (
            isinstance(node, Mapping)
            and segment not in node
            and segment in {v for v in node.values() if isinstance(v, str)}
        ):
            continue
        parts.append(str(segment))
        if isinstance(node, Mapping):
            node = node.get(segment)
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            node = None
    return ".".join(parts) or "(top level)"


def load_yaml_model(
    path: Path,
    model: type[Model],
    error: type[ValueError],
    context: Mapping[str, Any] | None = None,
) -> Model:
    """Parse ``path`` as YAML into ``model``; raise ``error`` naming file, path and reason.

    ``context`` reaches the model's validators (a template checks its KPIs against the catalog).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise error(f"{path}: {_yaml_problem(exc)}") from None
    try:
        return model.model_validate(data, context=dict(context) if context else None)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise error(f"{path}: {yaml_path(data, first['loc'])}: {_one_line(first['msg'])}") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where the parser gave up and why, as a person counts lines and columns."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"not valid YAML: line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"not valid YAML: {_one_line(str(exc))}"


def _one_line(text: str) -> str:
    """An error is one line, whatever the YAML parser's message looks like."""
    return " ".join(text.split())
