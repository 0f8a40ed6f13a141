"""``kpihub connector new`` gives a connector that passes the contract kit against its tiny twin
from a folder of its own, and a test entry that fails until the mapping is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from connectors.testing.scaffold import scaffold

REPO = Path(__file__).resolve().parents[2]
NAME = "lms"


def run_with(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python from the repository with ``root`` on PYTHONPATH, as a company keeping its
    connectors in a folder of its own would."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("KPIHUB_TODAY", None)
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_scaffold_writes_the_connector_twin_and_test_entry(tmp_path: Path) -> None:
    written = scaffold(NAME, tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in written) == [
        "connectors/lms/__init__.py",
        "connectors/lms/client.py",
        "connectors/lms/mapping.py",
        "connectors/lms/records.py",
        "connectors/lms/streams.py",
        "sandbox/twins/lms.py",
        "tests/connectors/test_lms.py",
    ]
    assert not (tmp_path / "connectors" / "__init__.py").exists()


def test_scaffolded_connector_passes_the_kit_against_its_twin(tmp_path: Path) -> None:
    scaffold(NAME, tmp_path)
    result = run_with(tmp_path, "-m", "connectors.testing", NAME, "--faults", "hostile")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "9 of 9 checks did not fail; 0 failed"
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "lms connect",
        "lms bad_credentials",
        *(
            f"lms/items {check}"
            for check in (
                "read",
                "schema",
                "keys",
                "repeatable",
                "incremental",
                "future_state",
                "faults",
            )
        ),
    ]
    assert all(": pass" in line for line in lines[:-1])


def test_generated_test_entry_fails_until_the_mapping_is_written(tmp_path: Path) -> None:
    scaffold(NAME, tmp_path)
    entry = tmp_path / "tests" / "connectors" / f"test_{NAME}.py"
    pytest_args = ("-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path))
    first = run_with(tmp_path, *pytest_args, str(entry))
    assert first.returncode == 1, first.stdout
    assert "NotImplementedError: lms: write map_items in connectors/lms/mapping.py" in first.stdout

    mapping = tmp_path / "connectors" / NAME / "mapping.py"
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace(
            "    raise NotImplementedError(",
            "    return MappingResult(observations=[])\n    raise NotImplementedError(",
        ),
        encoding="utf-8",
    )
    second = run_with(tmp_path, *pytest_args, str(entry))
    assert second.returncode == 1, second.stdout
    assert "write down EXPECTED; the mapping gave []" in second.stdout
