"""Fit a collection of MNIST SIRENs (the DWSNets INR setting) and measure it.

    python scripts/bench_collections.py                       # all 10,000 test digits
    python scripts/bench_collections.py --limit 2048 --sweep-limit 512

Part "collection": ``inr fit-many`` with the built-in image collection default (inr/modalities/defaults/image-collection.yaml)
on --limit digits: wall time (process start to merged collection), fields per
second, final mean/min PSNR, achieved GFLOP/s (analytic MLP FLOPs: 3 matmuls of
forward size per training step) against this machine's fp32 matmul throughput,
and mean/min PSNR against steps from the chunk histories. Part "steps": the
same on --sweep-limit digits for several step budgets (PSNR against wall
time). Part "single": the same fields fitted one at a time through the
single-field path (one compiled step reused), for the speed-up. Writes
scripts/results/bench_collections.md and a plot.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, markdown_table, matmul_gflops, report_header, write_report  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "inr" / "modalities" / "defaults" / "image-collection.yaml"
MNIST = ROOT.parent / "shared" / "data" / "mnist" / "t10k-images-idx3-ubyte.gz"


def fit_collection(source: Path, out: Path, limit: int, sets: list[str]) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "inr", "fit-many", str(source), "--config", str(CONFIG), "--out", str(out),
           "--limit", str(limit), "--overwrite", "--quiet", *sum((["--set", s] for s in sets), [])]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return json.loads((out / "collection.json").read_text()), time.perf_counter() - t


def flops_per_field_step(meta: dict) -> float:
    """Forward MACs per point times points, x2 for FLOPs, x3 for forward + two backward matmuls."""
    shapes = [e["shape"] for e in meta["layout"] if e["name"].endswith(".W")]
    points = int(np.prod(meta["signal"]["shape"]))
    return 2.0 * 3.0 * points * sum(a * b for a, b in shapes)


def summarise(meta: dict, wall: float) -> dict:
    psnrs = np.array([f["metrics"]["psnr"] for f in meta["fields"]])
    train_seconds = sum(c["history"][-1]["seconds"] for c in meta["chunks"])
    steps = meta["chunks"][0]["history"][-1]["step"]
    n = len(psnrs)
    return {"fields": n, "steps": steps, "wall": wall, "train_seconds": train_seconds, "fields_per_s": n / wall,
            "mean": float(psnrs.mean()), "min": float(psnrs.min()),
            "gflops": flops_per_field_step(meta) * n * steps / train_seconds / 1e9}


def curve(meta: dict) -> list[list]:
    """Mean and min PSNR over all fields at each logged step, and the training
    seconds the whole collection had spent when every chunk reached it."""
    steps = [r["step"] for r in meta["chunks"][0]["history"]]
    rows = []
    for i, s in enumerate(steps):
        recs = [c["history"][i] for c in meta["chunks"]]
        sizes = [sum(1 for f in meta["fields"] if f["chunk"] == c["chunk"]) for c in meta["chunks"]]  # real fields
        mean = sum(r["psnr_mean"] * n for r, n in zip(recs, sizes)) / sum(sizes)
        rows.append([s, mean, min(r["psnr_min"] for r in recs), sum(r["seconds"] for r in recs)])
    return rows


def single_path(source: Path, count: int, steps: int) -> float:
    """Seconds to fit ``count`` digits one at a time with the single-field fit
    (one device, one compiled chunk reused for all)."""
    import jax

    from inr.collections.config import CollectionRunConfig
    from inr.collections.idx import read_idx
    from inr.runs import run_config
    from inr.fields.model import build_field
    from inr.modalities import MODALITIES
    from inr.train.checkpoint import FitState
    from inr.train.fit import fit, make_chunk_fn
    from inr.train.optim import make_optimizer

    cfg = run_config([CONFIG], [f"train.steps={steps}"], {"input": str(source)},
                          CollectionRunConfig)
    image = MODALITIES.get("image")
    field = build_field(cfg.model, 2, 1)
    opt = make_optimizer(cfg.train)
    loss = image.loss(field.apply, cfg.data, cfg.train)
    chunk = make_chunk_fn(loss, opt)
    digits = read_idx(source)[:count]
    t = time.perf_counter()
    for j, d in enumerate(digits):
        init_key, key = jax.random.split(jax.random.PRNGKey(j))
        params = field.init(init_key)
        data = image.training_data(image.from_array(d, str(j), cfg.data), cfg.data)
        state = fit(loss, FitState(params, opt.init(params)), data, cfg.train, opt, key=key, quiet=True, chunk=chunk)
        jax.block_until_ready(state.params)
    return time.perf_counter() - t


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rows in curves.items():
        ax.plot([r[3] for r in rows], [r[1] for r in rows], marker="o", label=f"{name} mean")
        ax.plot([r[3] for r in rows], [r[2] for r in rows], ls="--", label=f"{name} min")
    ax.set_xlabel("training seconds (whole collection)")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", type=Path, default=MNIST)
    p.add_argument("--limit", type=int, default=10000)
    p.add_argument("--sweep-limit", type=int, default=1024)
    p.add_argument("--sweep-steps", type=int, nargs="*", default=[50, 75, 100, 150])
    p.add_argument("--single", type=int, default=32, help="digits fitted one at a time for the speed-up")
    p.add_argument("--out", type=Path, default=RESULTS / "bench_collections.md")
    args = p.parse_args()
    if not args.source.is_file():
        sys.exit(f"{args.source}: not found (pass --source)")
    sections = [report_header("bench_collections", sys.argv[1:])]
    peak = matmul_gflops()
    sections.append(f"fp32 matmul throughput on this machine (65536×256 @ 256×256): XLA {peak['xla']:.0f} GFLOP/s, "
                    f"numpy {peak['numpy']:.0f} GFLOP/s.\n")
    with tempfile.TemporaryDirectory() as tmp:
        meta, wall = fit_collection(args.source, Path(tmp) / "all", args.limit, [])
        s = summarise(meta, wall)
        header = ["fields", "steps", "wall s", "fields/s", "mean PSNR", "min PSNR", "GFLOP/s", "of XLA peak"]
        row = [s["fields"], s["steps"], s["wall"], s["fields_per_s"], s["mean"], s["min"], s["gflops"],
               f"{100 * s['gflops'] / peak['xla']:.0f}%"]
        sections.append(f"## Collection: {s['fields']} MNIST digits, `{CONFIG.relative_to(ROOT)}`, "
                        f"{meta['chunk_size']} fields per chunk\n\n" + markdown_table(header, [row]) + "\n")
        sections.append("### PSNR against steps (all fields)\n\n" + markdown_table(
            ["step", "mean PSNR", "min PSNR", "training s (collection)"], curve(meta)) + "\n")
        print("\n".join(sections[-2:]), flush=True)
        curves, rows = {f"{s['steps']} steps": curve(meta)}, []
        for steps in args.sweep_steps:
            m, w = fit_collection(args.source, Path(tmp) / f"s{steps}", args.sweep_limit, [f"train.steps={steps}"])
            r = summarise(m, w)
            rows.append([steps, r["wall"], r["fields_per_s"], r["mean"], r["min"]])
            print(f"  {rows[-1]}", flush=True)
        sections.append(f"## Step budget on the first {args.sweep_limit} digits (cosine schedule over the budget)\n\n"
                        + markdown_table(["steps", "wall s", "fields/s", "mean PSNR", "min PSNR"], rows) + "\n")
        if args.single:
            single = single_path(args.source, args.single, s["steps"])
            rate = args.single / single
            sections.append(f"## One at a time\n\nThe single-field path (one device, one compiled step reused) "
                            f"fits {args.single} digits in {single:.1f} s: {rate:.2f} fields/s. The collection "
                            f"path: {s['fields_per_s']:.1f} fields/s, **{s['fields_per_s'] / rate:.0f}× faster**.\n")
            print(sections[-1], flush=True)
    plot(curves, args.out.with_suffix(".png"))
    write_report(args.out, sections)


if __name__ == "__main__":
    main()
