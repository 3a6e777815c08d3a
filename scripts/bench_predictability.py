"""Which collections can a weight diffusion model learn from? For each
collection: do fields whose signals look alike have alike weights?

    python scripts/bench_predictability.py runs/mnist runs/shapes [--config configs/diffusion/mnist.yaml]

Splits each collection as `inr diffusion train` does (the config's split and
seed), standardizes its weights per parameter over the training split, decodes
the training and test fields as `inr diffusion eval` does (28x28 pixels or
surface clouds), and prints the R^2 of predicting each test field's weights by
the mean weights of its k nearest training fields in that space
(inr/diffusion/diagnose.py). No training; writes
scripts/results/bench_predictability.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, markdown_table, report_header, write_report  # noqa: E402

from inr.collections.format import load_collection  # noqa: E402
from inr.runs import run_config  # noqa: E402
from inr.diffusion.diagnose import neighbour_predictability  # noqa: E402
from inr.diffusion.standardize import Standardizer  # noqa: E402
from inr.diffusion.train import DiffusionConfig  # noqa: E402
from inr.modalities import MODALITIES  # noqa: E402
from inr.collections.split import split_by_signal  # noqa: E402

KS = (1, 5, 20)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("collections", type=Path, nargs="+")
    p.add_argument("--config", type=Path, help="diffusion config whose split and seed to use (default: defaults)")
    p.add_argument("--out", type=Path, default=RESULTS / "bench_predictability.md")
    args = p.parse_args()
    cfg = run_config([args.config] if args.config else [], [], {}, DiffusionConfig)
    rows = []
    for path in args.collections:
        t0 = time.perf_counter()
        coll = load_collection(path)
        split = split_by_signal([f["source"] for f in coll.fields], cfg.split, cfg.seed)
        train_w, test_w = coll.weights[split["train"]], coll.weights[split["test"]]
        std = Standardizer.fit(train_w, True, "parameter")
        train_x, test_x = (np.asarray(std.forward(w), np.float64) for w in (train_w, test_w))
        ev = MODALITIES.get(coll.meta["modality"])
        train_items, test_items = (ev.comparable(coll.field, w, coll.meta) for w in (train_w, test_w))
        near = neighbour_predictability(train_x, test_x, ev.distance(test_items, train_items), KS)
        key = MODALITIES.get(coll.meta["modality"]).metric[0]
        fitted = [f["metrics"][key] for f in coll.fields if f.get("metrics", {}).get(key) is not None]
        m = coll.meta["model"]
        rows.append([str(path), len(coll), f"{m['hidden_layers']} x {m['hidden_width']} {m['activation']}",
                     coll.meta["param_count"], f"{key} {np.mean(fitted):.3f}",
                     *[f"{r['r2']:.3f}" for r in near],
                     round(time.perf_counter() - t0, 1)])
        print(" | ".join(str(v) for v in rows[-1]), flush=True)
    table = markdown_table(["collection", "fields", "MLP", "parameters", "fitted (mean)",
                            *[f"R^2 {k}-NN" for k in KS], "seconds"], rows)
    print(table)
    write_report(args.out, [report_header("bench_predictability", sys.argv[1:]),
                            "R^2 of a test field's standardized weights predicted by the mean weights of its k "
                            "nearest training fields in decoded-signal space (1: alike signals have alike "
                            "weights; -1/k: weights and signals are unrelated).\n", table])


if __name__ == "__main__":
    main()
