"""A killed sandbox leaves no temporary folder behind once another one starts."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import textwrap
from datetime import date
from pathlib import Path

from sandbox.model import generate_world
from sandbox.serving import SandboxServer


def test_a_killed_sandbox_leaves_no_folder_once_another_starts(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import time
        from datetime import date
        from sandbox.model import generate_world
        from sandbox.serving import SandboxServer
        server = SandboxServer(generate_world(3, 5, date(2026, 11, 20)), systems=("erp",))
        print(server.erp_path.parent, flush=True)
        time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    folder = Path(child.stdout.readline().strip())
    assert folder.is_dir() and folder.name.startswith(f"kpihub-sandbox-{child.pid}-")
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert folder.is_dir()  # a killed process cleans up nothing itself

    SandboxServer(generate_world(3, 5, date(2026, 11, 20)), systems=("qms",))
    assert not folder.exists()
    assert Path(tempfile.gettempdir()) == folder.parent
