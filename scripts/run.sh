#!/usr/bin/env bash
# Runs CareWatch on this machine: a Python virtual environment in .venv, the package
# installed into it, then `carewatch up` (database, demo data if empty, web server), which
# prints the address to open and the demo sign-ins. Safe to run again: the install step is
# skipped while pyproject.toml is unchanged. Extra arguments go to `carewatch up`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found; install Python 3.11 or newer (Debian: apt-get install python3)" >&2
  exit 2
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: CareWatch needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)" >&2
  exit 2
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  if ! "$PYTHON" -m venv .venv; then
    rm -rf .venv
    echo "error: could not create a virtual environment; on Debian: apt-get install python3-venv" >&2
    exit 2
  fi
fi

# Reinstall only when the dependencies may have changed, so a second run starts at once
# (and works offline).
stamp=.venv/.carewatch-installed
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -x .venv/bin/carewatch ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "==> installing CareWatch into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e .
  echo "$wanted" > "$stamp"
fi

exec .venv/bin/carewatch up "$@"
