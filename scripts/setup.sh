#!/usr/bin/env bash
# Prepares a fresh machine for KPI Hub: Debian packages for ODBC, then the virtualenv.
# `--browser` adds Debian's Chromium, which the portal's browser tests drive, and a Chinese font.
# Safe to run again: it installs only what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
DEB_PACKAGES=(unixodbc libodbc2 libsqliteodbc odbc-postgresql odbc-mariadb)
if [ "${1:-}" = "--browser" ]; then
  DEB_PACKAGES+=(chromium fonts-wqy-microhei)
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${DEB_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
else
  echo "setup: dpkg not found; install the ODBC driver manager and the SQLite/PostgreSQL ODBC drivers yourself" >&2
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: Debian packages installed"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi

# The Python packages come from requirements.lock, each version pinned with its hashes, so a fresh
# machine gets the same ones next month; KPI Hub itself is installed over them, editable. Reinstall
# only when the lock or the project's metadata changed since the last install.
stamp="$VENV/.kpihub-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  echo "setup: installing the $(grep -c '==' requirements.lock) packages pinned in requirements.lock," \
    "then KPI Hub, into $VENV (log: $VENV/install.log)"
  if ! { "$VENV/bin/python" -m pip install --upgrade pip \
         && "$VENV/bin/python" -m pip install --require-hashes -r requirements.lock \
         && "$VENV/bin/python" -m pip install --no-deps -e .; } >"$VENV/install.log" 2>&1; then
    tail -n 30 "$VENV/install.log" >&2
    cause=$(grep -m1 -E '^ERROR: ' "$VENV/install.log" || true)
    echo "setup: installing the Python packages failed${cause:+: ${cause#ERROR: }}; the whole log is $VENV/install.log" >&2
    exit 1
  fi
  touch "$stamp"
fi

# Byte-compile the hub's own code once: where Python is told not to write .pyc files
# (PYTHONDONTWRITEBYTECODE), every command would otherwise compile each module it imports.
"$VENV/bin/python" -m compileall -q -j 0 connectors orchestration pipelines portal quality \
  sandbox schemas >/dev/null || true
