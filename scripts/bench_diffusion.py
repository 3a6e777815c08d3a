"""HyperDiffusion against a Gaussian over the weights and a memorizer, on digits or shapes.

    python scripts/bench_diffusion.py --collection runs/mnist --minutes 30
    python scripts/bench_diffusion.py --collection runs/mnist --run runs/mnist-diff     # reuse a trained run
    python scripts/bench_diffusion.py --kind shapes --minutes 20                        # 3-D

Digits: SIREN 2-32-32-1 (DWSNets' init) on the 10,000 MNIST test digits,
each fitted by 10 steps of SGD from one shared init learned by MAML
(configs/collections/mnist_meta.yaml: `inr meta-init`, then fit-many; made
here if not given, about 8 minutes). Its weights follow the digits smoothly,
unlike 1,000 Adam steps from a random init (scripts/bench_predictability.py),
and only then does the denoiser learn them; metrics on
decoded 28x28 pictures (pixel L2), plus a digit classifier's confident
fraction and class entropy. Shapes: occupancy MLPs
(the built-in sdf collection default, inr/modalities/defaults/sdf-collection.yaml, made CPU-sized by --shape-sets)
on --shapes meshes of scripts/make_shapes.py (both made here if no
collection is given); metrics on 2,048-point normalised surface clouds of
64^3 marching cubes (Chamfer). The denoiser trains on the training split for
--minutes of wall time; each generator then draws as many fields as the test
split holds. MMD, COV and 1-NNA are against the test split; memorization is
each sample's distance to its nearest training item against the same for
test items. It also prints the denoiser's x0 error per timestep beside the best
linear denoiser's, and how well a test field's weights are predicted by its
nearest training fields in signal space (inr/diffusion/diagnose.py). Writes
scripts/results/bench_diffusion[_shapes].md and picture grids.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import MNIST, ROOT, RESULTS, markdown_table, report_header, write_report  # noqa: E402

from inr.collections.format import load_collection  # noqa: E402
from inr.runs import run_config  # noqa: E402
from inr.diffusion.diagnose import denoising_errors, gaussian_denoiser, neighbour_predictability  # noqa: E402
from inr.diffusion.evaluate import evaluate_items, references, train_digit_classifier  # noqa: E402
from inr.diffusion.runs import load_denoiser, train_run  # noqa: E402
from inr.diffusion.sample import sample  # noqa: E402
from inr.diffusion.train import DiffusionConfig, schedule_of  # noqa: E402
from inr.fields.layout import unflatten  # noqa: E402
from inr.modalities import MODALITIES  # noqa: E402
from inr.collections.split import split_by_signal  # noqa: E402

# HyperDiffusion's occupancy MLP is 3 x 128 with 100k points per shape; on a
# 2-core CPU the benchmark fits 3 x 64 for 400 steps of 2048 points.
SHAPE_SETS = ["model.hidden_width=64", "train.steps=400", "train.batch_size=2048", "data.samples=50000",
              "train.checkpoint_every=400", "collection.chunk_size=50"]
SHEET = {"digits": 64, "shapes": 16}


def fit_digit_collection(out: Path, workdir: Path) -> None:
    """The 10,000 test digits fitted from a learned init (configs/collections/mnist_meta.yaml)."""
    meta = workdir / "meta-init"
    subprocess.run([sys.executable, "-m", "inr", "meta-init", str(MNIST), "--config",
                    str(ROOT / "configs" / "collections" / "mnist_meta.yaml"), "--out", str(meta), "--quiet"],
                   check=True, cwd=ROOT)
    subprocess.run([sys.executable, "-m", "inr", "fit-many", str(MNIST), "--config", str(meta / "collection.yaml"),
                    "--out", str(out), "--quiet"], check=True, cwd=ROOT)


def fit_shape_collection(out: Path, count: int, sets: list[str], workdir: Path) -> None:
    data = workdir / "shapes-data"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_shapes.py"), "--out", str(data),
                    "--count", str(count)], check=True)
    overrides = [a for s in sets for a in ("--set", s)]
    subprocess.run([sys.executable, "-m", "inr", "fit-many", str(data), "--config",
                    str(ROOT / "inr" / "modalities" / "defaults" / "sdf-collection.yaml"), "--out", str(out),
                    *overrides, "--quiet"], check=True, cwd=ROOT)


def sheet(coll, weights: np.ndarray, path: Path, count: int) -> None:
    """The first ``count`` fields rendered by their modality into one picture grid."""
    template = coll.field.init(jax.random.PRNGKey(0))
    params = [unflatten(np.asarray(w, np.float32), template) for w in weights[:count]]
    MODALITIES.get(coll.meta["modality"]).render_many(coll.field.apply, params, coll.meta, path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=["digits", "shapes"], default="digits")
    p.add_argument("--collection", type=Path, help="shared-init collection of that kind (else fitted here)")
    p.add_argument("--shapes", type=int, default=400, help="shapes: how many meshes to make and fit")
    p.add_argument("--shape-sets", nargs="*", default=SHAPE_SETS, help="shapes: overrides of the collection config")
    p.add_argument("--run", type=Path, help="an already trained diffusion run (skips training)")
    p.add_argument("--config", type=Path, help="default: configs/diffusion/mnist.yaml or shapes.yaml")
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--ddim-steps", type=int, nargs="+", default=[50])
    p.add_argument("--ddpm", action="store_true", help="also sample with all 500 DDPM steps (slow on a CPU)")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    digits = args.kind == "digits"
    args.config = args.config or ROOT / "configs" / "diffusion" / ("mnist.yaml" if digits else "shapes.yaml")
    args.out = args.out or RESULTS / ("bench_diffusion.md" if digits else "bench_diffusion_shapes.md")
    sections = [report_header("bench_diffusion", sys.argv[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        coll_dir = args.collection
        if coll_dir is None:
            coll_dir = Path(tmp) / args.kind
            if digits:
                fit_digit_collection(coll_dir, Path(tmp))
            else:
                fit_shape_collection(coll_dir, args.shapes, args.shape_sets, Path(tmp))
        coll = load_collection(coll_dir)
        run = args.run
        if run is not None:
            history = json.loads((run / "history.json").read_text())
            train_note = (f"{history[-1]['step']} steps in {history[-1]['seconds']:.0f} s, final loss "
                          f"{history[-1]['loss_mean']:.4f} (run {run})")
        if run is None:
            run = Path(tmp) / "run"
            cfg = run_config([args.config], [f"train.max_seconds={60 * args.minutes}"], {}, DiffusionConfig)
            summary = train_run(cfg, coll_dir, run, quiet=True)
            train_note = f"{summary['steps']} steps in {summary['seconds']:.0f} s, final loss {summary['loss']:.4f}"
            print(train_note, flush=True)
        cfg, tok, apply, params, std, info = load_denoiser(run)
        split = {k: np.asarray(v, np.int64) for k, v in info["split"].items()}
        if not np.array_equal(split["train"], split_by_signal([f["source"] for f in coll.fields], cfg.split,
                                                              cfg.seed)["train"]):
            raise SystemExit("the run's split does not match this collection")
        ts = [t for t in (10, 50, 100, 200, 300, 400, cfg.timesteps - 1) if t < cfg.timesteps]
        train_x, test_x = std.forward(coll.weights[split["train"]]), std.forward(coll.weights[split["test"]])
        gauss = gaussian_denoiser(train_x, schedule_of(cfg))
        errors = denoising_errors(apply, params, schedule_of(cfg), gauss, test_x, ts)
        seen = denoising_errors(apply, params, schedule_of(cfg), gauss, train_x[:len(test_x)], ts)
        ev = MODALITIES.get(coll.meta["modality"])
        t0 = time.perf_counter()
        refs = references(ev, ev.comparable(coll.field, coll.weights[split["train"]], coll.meta),
                          ev.comparable(coll.field, coll.weights[split["test"]], coll.meta))
        print(f"decoded the training and test fields in {time.perf_counter() - t0:.0f} s", flush=True)
        smooth = neighbour_predictability(train_x, test_x, refs.test_train)
        classifier = None
        if coll.labels is not None and ev.classifiable:
            classifier = train_digit_classifier(refs.train, coll.labels[split["train"]])
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
            m = evaluate_items(ev, ev.comparable(coll.field, weights, coll.meta), refs, classifier)
            mem = m["memorization"]
            extra = []
            if "classifier" in m:
                cls = m["classifier"]
                extra = [round(100 * cls["confident_fraction"], 1), round(cls["class_entropy"], 3),
                         cls["classes_present"]]
            if "empty_fraction" in m:
                extra = [round(100 * m["empty_fraction"], 1)]
            rows.append([name, f"{m['mmd']:.4g}", round(100 * m["cov"], 1), round(100 * m["1nna"], 1), *extra,
                         f"{mem['sample_to_train_median']:.4g}", f"{mem['test_to_train_median']:.4g}",
                         round(100 * mem["closer_than_any_test"], 1), f"{mem['train_test_ratio_median']:.3f}",
                         round(seconds, 1)])
            print(" | ".join(str(v) for v in rows[-1]), flush=True)
            sheet(coll, weights, args.out.with_name(f"{args.out.stem}_{len(rows)}.png"), SHEET[args.kind])

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
        # held-out real fields: what a perfect generator would score (1-NNA near 50 %)
        add(f"Validation split (real {args.kind})", coll.weights[split["val"]][:n], 0.0)

    extra = (["confident %", "class entropy", "classes"] if classifier is not None
             else ["empty %"] if not digits else [])
    header = ["generator", "MMD", "COV %", "1-NNA %", *extra, "median d(sample, train)", "median d(test, train)",
              "% closer than any test", "d(., train subset) / d(., test)", "sampling s"]
    measure = ("pixel L2 on 28x28 renders. Ideal: 1-NNA 50 %, COV high, class entropy ln 10 = 2.303" if digits
               else "Chamfer distance (squared) between normalised 2,048-point clouds of 64^3 marching cubes. "
               "Ideal: 1-NNA 50 %, COV high, MMD low")
    key = MODALITIES.get(coll.meta["modality"]).metric[0]
    fitted = [f["metrics"][key] for f in coll.fields if f.get("metrics", {}).get(key) is not None]
    m = coll.meta["model"]
    act = m["activation"]["name"] if isinstance(m["activation"], dict) else m["activation"]  # a name before format 3
    sections.append(f"Collection: {len(coll)} fields ({coll.meta['init']} init), {m['encoding']['name']} encoding, "
                    f"{m['hidden_layers']} x {m['hidden_width']} {act}, {coll.meta['param_count']} "
                    f"parameters each; fitted {key}: mean {np.mean(fitted):.3f}, min {np.min(fitted):.3f}.\n")
    sections.append(f"Training: {train_note}. {n} samples per generator against the {n} test fields; {measure}. "
                    "Memorization: each item's distance to its nearest training field, the median beside the test "
                    "fields' own; the fraction of samples closer to a training field than any test field is; and "
                    "the median over samples of d(nearest in a random training subset as large as the test set) / "
                    "d(nearest test field), which does not fall for samples that are merely typical: about 1 for "
                    "held-out real fields (the validation row), lower by the subset's share of copied items for "
                    "a copier (the memorizer row).\n")
    sections.append(markdown_table(header, rows))
    sections.append(f"\nPicture grids (first {SHEET[args.kind]} of each row, in table order): "
                    + ", ".join(f"{args.out.stem}_{i + 1}.png" for i in range(len(rows))) + "\n")
    print(sections[-2])
    sections.append("\nDenoising error (x0 MSE, standardized weights) of the network and of the best linear "
                    "denoiser, a Gaussian's posterior mean (inr/diffusion/diagnose.py), on the test fields and on "
                    "as many training fields: where the network is not lower on the test fields, it has learned "
                    "nothing the Gaussian baseline lacks; lower on the training fields only, it has memorised them.\n")
    sections.append(markdown_table(["t", "network (test)", "Gaussian (test)", "network (train)", "Gaussian (train)"],
                                   [[e["t"], f"{e['network']:.4f}", f"{e['gaussian']:.4f}", f"{f['network']:.4f}",
                                     f"{f['gaussian']:.4f}"] for e, f in zip(errors, seen)]))
    print(sections[-1])
    sections.append("\nHow smoothly the weights follow the signals (inr/diffusion/diagnose.py): R^2 of predicting "
                    "each test field's standardized weights by the mean of its k nearest training fields in the "
                    "metric's space. Near 1: alike signals have alike weights; -1/k: their weights are unrelated.\n")
    sections.append(markdown_table(["k", "R^2"], [[r["k"], f"{r['r2']:.3f}"] for r in smooth]))
    print(sections[-1])
    write_report(args.out, sections)


if __name__ == "__main__":
    main()
