"""The background sandbox started by ``kpihub sandbox up``: serves until it receives SIGTERM.

It writes ``$KPIHUB_HOME/sandbox.json`` (pid, seed, size, endpoints) when it is ready and the
endpoint variables into ``$KPIHUB_HOME/sources.env``, where the hub's settings pick them up.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from sandbox.faults import FaultPlan
from sandbox.model import generate_world
from sandbox.serving import SandboxServer

STATE_FILE = "sandbox.json"


def write_sources_env(path: Path, endpoints: dict[str, str]) -> None:
    """Replace the sandbox's variables in ``sources.env`` and keep any other lines as they are."""
    kept = []
    if path.exists():
        kept = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.split("=", 1)[0].strip() not in endpoints
        ]
    lines = kept + [f"{key}={value}" for key, value in endpoints.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def remove_from_sources_env(path: Path, keys: set[str]) -> None:
    if not path.exists():
        return
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.split("=", 1)[0].strip() not in keys
    ]
    path.write_text("\n".join(kept) + ("\n" if kept else ""), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the KPI Hub sandbox until SIGTERM.")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--employees", type=int, default=200)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument(
        "--faults",
        type=FaultPlan.parse,
        default=FaultPlan(),
        help="PROFILE[,SYSTEM=PROFILE...], profiles none | flaky | hostile (see sandbox.faults)",
    )
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    world = generate_world(seed=args.seed, employees=args.employees)
    with SandboxServer(world, erp_dir=args.home / "sandbox", faults=args.faults) as server:
        write_sources_env(args.home / "sources.env", server.endpoints)
        state = {
            "pid": os.getpid(),
            "seed": args.seed,
            "employees": args.employees,
            "faults": str(args.faults),
            "as_of": world.as_of.isoformat(),
            "endpoints": server.endpoints,
        }
        (args.home / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")
        stop.wait()


if __name__ == "__main__":
    main()
