#!/usr/bin/env bash
# Creates (or reuses) the project's virtual environment in .venv and installs the project
# with its pinned dependencies. Sourced by run_main.sh and run_tests.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "[setup] creating virtual environment in $ROOT/.venv"
  "$PY" -m venv "$ROOT/.venv"
fi
# shellcheck disable=SC1091
. "$ROOT/.venv/bin/activate"
STAMP="$ROOT/.venv/.seqgan-installed"
# pip install, quiet, without one notice that is about the machine and not this project: where
# pip is configured with extra file:// package indexes that hold only some projects, it says
# "WARNING: Location 'file:///.../<project>/' is ignored: it is neither a file nor a directory"
# for every other package it looks up. Every other warning and error still shows.
pip_install() {
  python -m pip install --quiet "$@" 2>&1 \
    | { grep -v -E "^WARNING: Location '[^']*' is ignored: it is neither a file nor a directory" || true; }
}
if [ ! -f "$STAMP" ] || [ "$ROOT/setup.cfg" -nt "$STAMP" ]; then
  echo "[setup] installing seqgan-tf and its pinned dependencies (first run takes a few minutes)"
  pip_install --upgrade pip
  pip_install -e "$ROOT[dev]"
  touch "$STAMP"
fi
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# oneDNN kernels: TensorFlow turns them on by itself only on CPUs with AVX-512; on the AVX2-only
# 2-core EPYC of the project's machines the quick step measured 1.57x faster with them.
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-1}"
