#!/usr/bin/env bash
# Makes requirements.lock anew from pyproject.toml: every package KPI Hub and its tests install,
# the newest versions the constraints in pyproject.toml allow, each pinned with its hashes. Run it
# (make lock) after changing a dependency, then commit the lock; scripts/setup.sh installs from it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"$PYTHON" -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install --quiet pip-tools
"$tools/venv/bin/pip-compile" --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe \
  --no-emit-index-url --no-emit-find-links --no-header --no-annotate \
  -o "$tools/requirements.lock" pyproject.toml
{
  echo "# The Python packages KPI Hub installs, every version pinned with its hashes: a fresh machine"
  echo "# next month gets exactly these. scripts/setup.sh installs from it; scripts/lock.sh makes it anew"
  echo "# from pyproject.toml (make lock)."
  echo
  grep -v -E '^\s*#|^\s*$' "$tools/requirements.lock"
} >requirements.lock
echo "lock: requirements.lock pins $(grep -c '==' requirements.lock) packages"
