#!/usr/bin/env bash
# The README's test command: sets up .venv if needed, then runs ruff and the test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
ruff check .
ruff format --check .
python -m pytest -q "$@"
