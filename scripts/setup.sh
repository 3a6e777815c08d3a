#!/usr/bin/env bash
# Create .venv from requirements.txt if it is missing or out of date, and
# install the `inr` package into it (editable). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.inr-requirements
if ! cmp -s requirements.txt "$stamp" 2>/dev/null || ! .venv/bin/python -c "import inr" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install --quiet -r requirements.txt 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install --quiet --no-deps -e . 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -c "import inr, jax, optax, safetensors, skimage" 
  cp requirements.txt "$stamp"
fi
