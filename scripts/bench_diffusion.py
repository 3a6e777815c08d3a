"""HyperDiffusion on MNIST INRs against a Gaussian over the weights and a memorizer.

    python scripts/bench_diffusion.py --collection runs/mnist --minutes 30
    python scripts/bench_diffusion.py --collection runs/mnist --run runs/mnist-diff     # reuse a trained run

The collection is SIREN 2-32-32-1 on the 10,000 MNIST test digits with a
shared init (configs/collections/mnist_siren.yaml; fitted here if not
given). The denoiser trains on the 8,000-digit training split for --minutes
of wall time; each generator then draws as many fields as the test split
holds. Metrics on decoded 28x28 pictures (pixel L2) against the test split:
MMD, COV, 1-NNA, a digit classifier's confident fraction and class entropy,
and memorization (distance to the nearest training digit, against the same
for test digits). Writes scripts/results/bench_diffusion.md and picture grids.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import ROOT, RESULTS, fit_mnist_collection, markdown_table, report_header, write_report  # noqa: E402

from inr.collections.format import load_collection  # noqa: E402
from inr.config import merged  # noqa: E402
from inr.diffusion.evaluate import decode_images, evaluate_images, train_digit_classifier  # noqa: E402
from inr.diffusion.runs import load_denoiser, train_run  # noqa: E402
from inr.diffusion.sample import sample  # noqa: E402
from inr.diffusion.train import DiffusionConfig, schedule_of  # noqa: E402
from inr.modalities.image_io import picture_grid, write_image  # noqa: E402
from inr.schema import from_dict  # noqa: E402
from inr.weightspace.data import split_by_signal  # noqa: E402



def sheet(pixels: np.ndarray, path: Path, count: int = 64) -> None:
    write_image(path, picture_grid(list(pixels[:count].reshape(-1, 28, 28, 1))))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--collection", type=Path, help="shared-init MNIST collection (else fitted here)")
    p.add_argument("--run", type=Path, help="an already trained diffusion run (skips training)")
    p.add_argument("--config", type=Path, default=ROOT / "configs" / "diffusion" / "mnist.yaml")
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--ddim-steps", type=int, nargs="+", default=[50])
    p.add_argument("--ddpm", action="store_true", help="also sample with all 500 DDPM steps (slow on a CPU)")
    p.add_argument("--out", type=Path, default=RESULTS / "bench_diffusion.md")
    args = p.parse_args()
    sections = [report_header("bench_diffusion", sys.argv[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        coll_dir = args.collection
        if coll_dir is None:
            coll_dir = Path(tmp) / "mnist"
            fit_mnist_collection(coll_dir)
        coll = load_collection(coll_dir)
        run = args.run
        if run is not None:
            history = json.loads((run / "history.json").read_text())
            train_note = (f"{history[-1]['step']} steps in {history[-1]['seconds']:.0f} s, final loss "
                          f"{history[-1]['loss']:.4f} (run {run})")
        if run is None:
            run = Path(tmp) / "run"
            cfg = from_dict(DiffusionConfig, merged([args.config], [], {}))
            summary = train_run(cfg, coll_dir, run, minutes=args.minutes, quiet=True)
            train_note = f"{summary['steps']} steps in {summary['seconds']:.0f} s, final loss {summary['loss']:.4f}"
            print(train_note, flush=True)
        cfg, tok, apply, params, std, info = load_denoiser(run)
        split = {k: np.asarray(v, np.int64) for k, v in info["split"].items()}
        if not np.array_equal(split["train"], split_by_signal([f["source"] for f in coll.fields], cfg.split,
                                                              cfg.seed)["train"]):
            raise SystemExit("the run's split does not match this collection")
        train_px = decode_images(coll.field, coll.weights[split["train"]], coll.meta)
        test_px = decode_images(coll.field, coll.weights[split["test"]], coll.meta)
        classifier = train_digit_classifier(train_px, coll.labels[split["train"]])
        n = len(split["test"])
        rng = np.random.default_rng(0)
        train_w = coll.weights[split["train"]].astype(np.float64)
        generators = {}
        for k in args.ddim_steps:
            generators[f"HyperDiffusion, DDIM {k}"] = ("ddim", k)
        if args.ddpm:
            generators[f"HyperDiffusion, DDPM {cfg.timesteps}"] = ("ddpm", 0)
        rows = []

        def add(name, weights, seconds):
            px = decode_images(coll.field, weights, coll.meta)
            m = evaluate_images(px, train_px, test_px, classifier)
            mem, cls = m["memorization"], m["classifier"]
            rows.append([name, round(m["mmd"], 3), round(100 * m["cov"], 1), round(100 * m["1nna"], 1),
                         round(100 * cls["confident_fraction"], 1), round(cls["class_entropy"], 3),
                         cls["classes_present"], round(mem["sample_to_train_median"], 3),
                         round(mem["test_to_train_median"], 3), round(100 * mem["closer_than_any_test"], 1),
                         round(seconds, 1)])
            print(" | ".join(str(v) for v in rows[-1]), flush=True)
            sheet(px, args.out.parent / f"bench_diffusion_{len(rows)}.png")

        for name, (method, steps) in generators.items():
            t0 = time.perf_counter()
            x = sample(apply, params, schedule_of(cfg), jax.random.PRNGKey(1), n, tok.size, method, steps)
            add(name, std.inverse(x), time.perf_counter() - t0)
        t0 = time.perf_counter()
        mean, cov = train_w.mean(0), np.cov(train_w, rowvar=False)
        add("Gaussian, full covariance", rng.multivariate_normal(mean, cov, n, method="eigh"),
            time.perf_counter() - t0)
        add("Gaussian, diagonal", mean + rng.normal(size=(n, len(mean))) * train_w.std(0), 0.0)
        add("Memorizer (random training fields)", train_w[rng.choice(len(train_w), n, replace=False)], 0.0)
        # held-out real digits: what a perfect generator would score (1-NNA near 50 %)
        add("Validation split (real digits)", coll.weights[split["val"]][:n], 0.0)

    header = ["generator", "MMD", "COV %", "1-NNA %", "confident %", "class entropy", "classes",
              "median d(sample, train)", "median d(test, train)", "% closer than any test", "sampling s"]
    sections.append(f"Training: {train_note}. {n} samples per generator against the {n} test digits; "
                    "pixel L2 on 28x28 renders. Ideal: 1-NNA 50 %, COV high, class entropy ln 10 = 2.303.\n")
    sections.append(markdown_table(header, rows))
    sections.append("\nPicture grids (first 64 of each row, in table order): "
                    + ", ".join(f"bench_diffusion_{i + 1}.png" for i in range(len(rows))) + "\n")
    print(sections[-2])
    write_report(args.out, sections)


if __name__ == "__main__":
    main()
