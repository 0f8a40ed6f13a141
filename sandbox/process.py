"""The background sandbox started by ``kpihub sandbox up``: serves until it receives SIGTERM.

It writes ``$KPIHUB_HOME/sandbox.json`` (pid, seed, size, endpoints) when it is ready and the
endpoint variables into ``$KPIHUB_HOME/sources.env``, where the hub's settings pick them up.

SIGUSR1 changes ``--change-fraction`` of the records its systems let users change (see
sandbox.changes) and writes what it changed to ``$KPIHUB_HOME/sandbox-changes.json``: how a
benchmark, from another process, gives an incremental pull a day's edits to find.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from sandbox.faults import FaultPlan
from sandbox.model import HISTORY_MONTHS, generate_world
from sandbox.serving import SandboxServer

STATE_FILE = "sandbox.json"
CHANGES_FILE = "sandbox-changes.json"


def write_private(path: Path, text: str) -> None:
    """Write a file that holds credentials so that only its owner can read it (0600), also
    while it is being written: it is created with that mode, never chmod-ed afterwards."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)  # the umask cannot widen it, but an old file's mode is not kept
    os.replace(temporary, path)


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
    write_private(path, "\n".join(lines) + "\n")


def remove_from_sources_env(path: Path, keys: set[str]) -> None:
    if not path.exists():
        return
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.split("=", 1)[0].strip() not in keys
    ]
    write_private(path, "\n".join(kept) + ("\n" if kept else ""))


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
    parser.add_argument("--history-months", type=int, default=HISTORY_MONTHS)
    parser.add_argument("--change-fraction", type=float, default=0.01)
    args = parser.parse_args()
    stop = threading.Event()
    change = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: change.set())
    world = generate_world(
        seed=args.seed, employees=args.employees, history_months=args.history_months
    )
    with SandboxServer(world, erp_dir=args.home / "sandbox", faults=args.faults) as server:
        write_sources_env(args.home / "sources.env", server.endpoints)
        state = {
            "pid": os.getpid(),
            "seed": args.seed,
            "employees": args.employees,
            "history_months": args.history_months,
            "faults": str(args.faults),
            "as_of": world.as_of.isoformat(),
            "endpoints": server.endpoints,
        }
        write_private(args.home / STATE_FILE, json.dumps(state, indent=2))
        while not stop.wait(0.1):
            if change.is_set():
                change.clear()
                changed = server.change_records(args.change_fraction)
                write_private(args.home / CHANGES_FILE, json.dumps(changed, indent=2))


if __name__ == "__main__":
    main()
