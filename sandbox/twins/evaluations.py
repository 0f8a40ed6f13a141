"""The evaluations twin: the files HR would drop for the company's last closed month, written into
a temporary folder. A folder has no transient faults, so every profile gets the same files."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sandbox.evaluations_data import write_evaluation_files
from sandbox.model import World
from sandbox.twins import register_twin


@register_twin("evaluations")
@contextmanager
def evaluations_twin(world: World, faults: str) -> Iterator[Mapping[str, str]]:
    with tempfile.TemporaryDirectory(prefix="kpihub-evaluations-") as folder:
        write_evaluation_files(world, Path(folder), world.closed_periods[-1:])
        yield {"KPIHUB_EVALUATIONS_DIR": folder}
