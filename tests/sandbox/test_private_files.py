"""Files that hold credentials are readable by their owner only, from the moment they exist."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sandbox.process import remove_from_sources_env, write_private, write_sources_env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sources_env_is_written_0600_and_keeps_other_lines(tmp_path: Path) -> None:
    path = tmp_path / "sources.env"
    path.write_text("KPIHUB_OWN=1\nKPIHUB_CRM_CLIENT_SECRET=old\n", encoding="utf-8")
    os.chmod(path, 0o644)
    write_sources_env(path, {"KPIHUB_CRM_CLIENT_SECRET": "s3cret"})
    assert mode(path) == 0o600
    assert path.read_text(encoding="utf-8") == "KPIHUB_OWN=1\nKPIHUB_CRM_CLIENT_SECRET=s3cret\n"
    remove_from_sources_env(path, {"KPIHUB_CRM_CLIENT_SECRET"})
    assert mode(path) == 0o600
    assert path.read_text(encoding="utf-8") == "KPIHUB_OWN=1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.env"]


def test_a_private_file_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_private(tmp_path / "sandbox.json", "{}")
    finally:
        os.umask(old)
    assert mode(tmp_path / "sandbox.json") == 0o600
