"""The read commands start fast because they import only what they use.

``kpihub --help``, ``kpihub trace`` and the other read commands are typed at a shell and should
answer at once; Dagster, Great Expectations and the sandbox each take longer to import than such
a command takes to run. Each case runs the real command line in a fresh interpreter and lists the
packages it imported; a top-level import that drags one of them in fails here, whatever the
machine's speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NEVER = ("dagster", "great_expectations", "sandbox")
"""Packages no read command imports: the orchestrator, the expectation suites, the sandbox."""
NOT_FOR_HELP = (*NEVER, "sqlalchemy", "alembic", "pydantic", "httpx", "connectors", "pipelines")
"""``kpihub --help`` is the command tree and its words: no store, setting or source is needed to
print it. (A command's own ``--help`` first passes the check of the settings every command
makes, so it reads the settings.)"""

PROBE = """
import json, sys
from orchestration.cli.main import app
try:
    app(sys.argv[1:], prog_name="kpihub")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}),
      file=sys.stderr)
"""


def imported_by(*args: str) -> tuple[int, set[str]]:
    """The exit code of ``kpihub ARGS`` and the top-level packages it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def test_help_imports_no_store_nor_pipeline() -> None:
    code, modules = imported_by("--help")
    assert code == 0
    assert modules.isdisjoint(NOT_FOR_HELP), sorted(modules & set(NOT_FOR_HELP))


@pytest.mark.parametrize(
    "args",
    [
        ["trace", "--help"],
        ["scores", "--help"],
        ["facts", "--help"],
        ["findings", "list", "--help"],
        ["status", "--help"],
    ],
)
def test_a_commands_help_imports_neither_dagster_nor_the_sandbox(args: list[str]) -> None:
    code, modules = imported_by(*args)
    assert code == 0
    assert modules.isdisjoint(NEVER), sorted(modules & set(NEVER))


def test_the_read_commands_import_neither_dagster_nor_the_sandbox() -> None:
    # A migrated, empty home: each command reads its stores through to its answer ("nothing
    # published"), so every import on its path has run.
    upgraded = subprocess.run(
        [sys.executable, "-c", "from orchestration.cli.main import app; app()", "db", "upgrade"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    for args in (
        ["trace", "E00001", "--period", "2026-10"],
        ["scores", "--period", "2026-10"],
        ["facts", "--period", "2026-10"],
        ["findings", "list"],
        ["status", "--period", "2026-10"],
    ):
        code, modules = imported_by(*args)
        assert code in (0, 2), args
        assert modules.isdisjoint(NEVER), (args, sorted(modules & set(NEVER)))


def test_the_sandbox_group_is_listed_with_its_own_help() -> None:
    from orchestration.cli.main import SANDBOX_HELP
    from sandbox.cli import app as sandbox_app

    assert sandbox_app.info.help == SANDBOX_HELP
