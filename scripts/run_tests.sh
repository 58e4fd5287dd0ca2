#!/usr/bin/env bash
# The README's test command: sets up .venv if needed, installs Debian's chromium for the editor's
# browser tests where it can (as root, with apt-get), then runs ruff and the test suite.
# Under CI (CI set, or SEQGAN_REQUIRE_BROWSER=1) a missing browser fails the browser tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[tests] installing Debian's chromium for the editor's browser tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 \
    || echo "[tests] could not install chromium (apt-get install -y chromium)" >&2
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "[tests] $CHROMIUM is missing: the editor's browser tests are skipped, or fail under" \
    "CI; install it with: apt-get install -y chromium" >&2
fi
ruff check .
ruff format --check .
# Two worker processes (pytest-xdist): alone on a 2-core Xeon the suite took 11 min 9 s, where
# one process took 21-23 min on the same kind of box. PYTEST_WORKERS=0 runs it in one process.
python -m pytest -q -n "${PYTEST_WORKERS:-2}" "$@"
