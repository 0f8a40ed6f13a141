"""``python -m connectors.testing NAME [--faults PROFILE]``: the kit against NAME's sandbox twin,
one line per check, exit code 1 on any failure. Needs neither Dagster nor the ``kpihub`` CLI, so
a connector kept in its own folder can be checked with that folder on ``PYTHONPATH``."""

from __future__ import annotations

import argparse
import sys

from connectors.testing import run_contract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.testing")
    parser.add_argument("name", help="a registered connector")
    parser.add_argument("--faults", default="hostile", choices=("none", "flaky", "hostile"))
    args = parser.parse_args(argv)
    results = run_contract(args.name, faults=args.faults)
    for result in results:
        print(result.describe())
    failures = sum(r.failed for r in results)
    print(f"{len(results) - failures} of {len(results)} checks did not fail; {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
