#!/usr/bin/env bash
# The GPU benchmark in one command, for one H100 / H200 with a CUDA build of JAX installed (meant for <= 8 minutes;
# not yet run on a GPU).
#   bash scripts/bench_gpu.sh [--small] [--mnist PATH] [--out FILE]
# Packages that machine lacks (trimesh, libigl, soundfile, ...) are installed from the wheels in .whl/ when
# that folder exists; the project's own package is used from this checkout. --small runs in seconds on a CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/inr-site .whl/*.whl
  export PYTHONPATH="/tmp/inr-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
exec "$PY" scripts/bench_gpu.py "$@"
