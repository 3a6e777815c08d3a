"""Helpers shared by the benchmark scripts: machine description, timing, tables."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    import os

    dev = jax.devices()[0]
    return (f"{cpu_name()}, {os.cpu_count()} cores; jax {jax.__version__} on {dev.platform} "
            f"({dev.device_kind}); numpy {np.__version__}")


def _best_time(fn, repeats: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def matmul_gflops(n: int = 65536, k: int = 256, m: int = 256) -> dict:
    """fp32 matmul throughput of numpy (BLAS) and XLA on this machine."""
    rng = np.random.default_rng(0)
    a = rng.random((n, k), np.float32)
    b = rng.random((k, m), np.float32)
    flops = 2.0 * n * k * m
    ja, jb = jnp.asarray(a), jnp.asarray(b)
    dot = jax.jit(jnp.dot)
    return {
        "numpy": flops / _best_time(lambda: a @ b) / 1e9,
        "xla": flops / _best_time(lambda: dot(ja, jb).block_until_ready()) / 1e9,
    }


def markdown_table(header: list[str], rows: list[list]) -> str:
    def fmt(v):
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def report_header(title: str, argv: list[str]) -> str:
    """Title, machine and the exact command, so every results file says how it was made."""
    command = f"python scripts/{title}.py " + " ".join(argv)
    return f"# {title}\n\nMachine: {machine()}\n\nCommand: `{command.strip()}`\n"


def write_report(path: Path, sections: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(sections))
    print(f"wrote {path}")


ROOT = Path(__file__).resolve().parent.parent
MNIST = ROOT.parent / "shared" / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"


def fit_mnist_collection(out: Path, init: str = "shared", config: str = "") -> None:
    """The 10,000 MNIST test digits as SIRENs (``configs/collections/<config>``, or with no config
    the built-in image collection default) with ``init``."""
    configs = ["--config", str(ROOT / "configs" / "collections" / config)] if config else []
    subprocess.run([sys.executable, "-m", "inr", "fit-many", str(MNIST), *configs, "--out", str(out),
                    "--set", f"collection.init={init}", "--overwrite", "--quiet"], check=True, cwd=ROOT,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
