#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, lints, type-checks, tests.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ -z "${VIRTUAL_ENV:-}" ] && [ "${EVENTBUS_NO_VENV:-}" != "1" ]; then
    # Use a project virtual environment unless one is active already.
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    PYTHON=.venv/bin/python
fi

"$PYTHON" -m pip install -q --upgrade pip >/dev/null
"$PYTHON" -m pip install -q -e '.[dev]'

echo "== ruff"
"$PYTHON" -m ruff check .
"$PYTHON" -m ruff format --check .
echo "== mypy (strict)"
"$PYTHON" -m mypy
echo "== pytest"
"$PYTHON" -m pytest "$@"
