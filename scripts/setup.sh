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
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
  .venv/bin/python -c "import inr, jax, optax, safetensors, skimage"
  cp requirements.txt "$stamp"
fi
