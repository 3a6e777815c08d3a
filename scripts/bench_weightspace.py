"""Learning on MNIST INR weights: every weight-space model side by side
(classification, each on the weights alone and with 64 probe features, test
accuracy mean +- std over seeds), the INR-editing table (dilation, test MSE
with pixels in [0, 1]), and the DWSNet variants (attention, augmentation).

    python scripts/bench_weightspace.py --collection runs/mnist-dwsnets                  # models + edit tables
    python scripts/bench_weightspace.py --collection C --table edit --models dws ng_gnn --steps 1000
    python scripts/bench_weightspace.py --collection C --table classify --models scale_gmn --config configs/weights/scale_gmn.yaml
    python scripts/bench_weightspace.py --collection C --table variants [--siren-collection S] [--shared-collection H]

The collection: `inr fit-many ../shared/data/mnist/t10k-images-idx3-ubyte.gz
--config configs/collections/mnist_dwsnets.yaml --out C` (SIREN 2->32->32->1
made as DWSNets made theirs; fitted here when --collection is not given, 20-45
minutes on 2 cores). Split 8,000 / 1,000 / 1,000 by signal with each run's
seed. Every row: the model's defaults, the training defaults (AdamW 3e-3, 200
warm-up steps, cosine decay, batch 128), the best validation step's weights;
--config files and --set keys apply to every row beneath its model, probes,
steps and seed.
The variants table adds the DWSNet with and without attention and input
augmentation, the MLP with permutation augmentation and, optionally, the DWSNet
with probes on a random-init collection of standard SIRENs (--siren-collection,
the built-in image collection default with collection.init=random) and the
MLP on a shared-init collection (--shared-collection), whose neurons are
aligned across fields. Writes scripts/results/bench_weightspace.md (or --out).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, fit_mnist_collection, markdown_table, report_header, write_report  # noqa: E402

MODELS = ["mlp", "dws", "nfn_hnp", "nfn_np", "ng_gnn", "ng_t", "scale_gmn"]
DWS = ["model.name=dws", "model.probes=0"]  # DWSNets: weights only
VARIANTS = [("MLP on weights", ["model.name=mlp"]),
            ("MLP + permutation augmentation", ["model.name=mlp", "augment=true"]),
            ("DWSNet, linear set layers (max pooling)", [*DWS, "model.attention=false"]),
            ("DWSNet, attention in the set layers", [*DWS, "model.attention=true"]),
            ("DWSNet, attention + input augmentation", [*DWS, "model.attention=true", "input_augment=true"]),
            ("DWSNet + 64 probe features, linear set layers (the default)", ["model.name=dws", "model.attention=false",
                                                                             "model.probes=64"]),
            ("DWSNet + 64 probe features, attention + input augmentation", ["model.name=dws", "model.probes=64",
                                                                             "model.attention=true",
                                                                             "input_augment=true"])]
PUBLISHED = {"mlp": "17.6 / -", "dws": "85.7 / -", "nfn_hnp": "79.1 / -", "nfn_np": "78.5 / -",
             "ng_gnn": "91.4 / ~97", "ng_t": "- / -", "scale_gmn": "96.6 (ScaleGMN-B) / -"}
PUBLISHED_EDIT = {"dws": "2.29e-2", "nfn_np": "2.55e-2", "nfn_hnp": "-", "ng_gnn": "-", "ng_t": "1.75e-2",
                  "scale_gmn": "-", "mlp": "-"}


def train(collection: Path, sets: list[str], out: Path, files=()) -> dict:
    from inr.runs import run_config
    from inr.weightspace.runs import train_run
    from inr.weightspace.train import WeightTrainConfig

    cfg = run_config(list(files), sets, {}, WeightTrainConfig)
    return train_run(cfg, collection, out, overwrite=True, quiet=True)


def spread(values: list[float]) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.2f} ± {statistics.stdev(values):.2f}" if len(values) > 1 else f"{mean:.2f}"


def run_rows(args, coll: Path, tmp: Path, task: str) -> list[list]:
    rows = []
    for model in args.models:
        for probes in args.probes:
            if model == "mlp" and probes:
                continue  # the flattened-weights MLP takes no probes
            # the model named first, so that --set model.KEY tunes it rather than being replaced by it
            sets = [f"model.name={model}", *args.set, f"task={task}", f"train.steps={args.steps}"]
            sets += [f"model.probes={probes}"] if model != "mlp" else []
            runs = []
            for seed in args.seeds:
                run = tmp / f"{task}-{model}-{probes}-{seed}"
                m = train(coll, sets + [f"seed={seed}"], run, args.config)
                runs.append(m)
                if task == "edit" and seed == args.seeds[0]:  # rows: as fitted, edited, dilated target
                    picture = f"{args.out.stem}_edit_{model}" + (f"_probes{probes}" if probes else "") + ".png"
                    shutil.copyfile(run / "edit.png", args.out.parent / picture)
                print(f"  {model} probes={probes} seed={seed}: {m}", flush=True)
            if task == "classify":
                row = [model, probes, spread([r["test_accuracy"] * 100.0 for r in runs])]
            else:
                row = [model, probes, *(f"{statistics.fmean(r[k] for r in runs):.4f}"
                                        for k in ("test_mse", "test_mse_unedited"))]
            row += [runs[0]["parameters"], runs[0]["steps"], f"{statistics.fmean(r['seconds'] for r in runs):.0f}",
                    len(runs), PUBLISHED[model] if task == "classify" else PUBLISHED_EDIT[model]]
            rows.append(row)
    return rows


def variant_rows(args, coll: Path, tmp: Path) -> list[list]:
    jobs = [(name, coll, sets) for name, sets in VARIANTS]
    if args.siren_collection:
        jobs.append((VARIANTS[5][0] + ", standard SIREN collection", args.siren_collection, VARIANTS[5][1]))
    if args.shared_collection:
        jobs.append(("MLP on weights, shared-init collection", args.shared_collection, ["model.name=mlp"]))
    rows = []
    for name, c, sets in jobs:
        m = train(c, sets + [f"train.steps={args.steps}", f"seed={args.seeds[0]}"], tmp / f"variant{len(rows)}")
        rows.append([name, m["train_count"], m["test_accuracy"] * 100, m["val_accuracy"] * 100,
                     m["train_accuracy"] * 100, m["parameters"], m["steps"], m["seconds"]])
        print(f"  {rows[-1]}", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--collection", type=Path, help="an existing mnist_dwsnets.yaml collection (else fitted here)")
    p.add_argument("--table", choices=["classify", "edit", "both", "variants"], default="both")
    p.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    p.add_argument("--probes", nargs="+", type=int, default=[0, 64], help="probe counts of the rows (each model "
                   "but the MLP gets a row for each)")
    p.add_argument("--config", nargs="*", default=[], help="YAML configs applied to every row (e.g. "
                   "configs/weights/scale_gmn.yaml)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config keys for every row")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--siren-collection", type=Path, help="variants: also the DWSNet with probes on this random-init "
                   "collection of standard SIRENs")
    p.add_argument("--shared-collection", type=Path, help="variants: also the MLP on a shared-init collection")
    p.add_argument("--out", type=Path, default=RESULTS / "bench_weightspace.md")
    args = p.parse_args()
    sections = [report_header("bench_weightspace", sys.argv[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        coll = args.collection
        if coll is None:
            coll = Path(tmp) / "mnist_dwsnets"
            fit_mnist_collection(coll, "random", "mnist_dwsnets.yaml")
        if args.table in ("classify", "both"):
            rows = run_rows(args, coll, Path(tmp), "classify")
            sections.append("## MNIST INR classification (test accuracy %, mean ± std over seeds)\n\n" + markdown_table(
                ["model", "probes", "test accuracy %", "parameters", "steps", "training s (mean)", "seeds",
                 "published: weights / probes %"], rows) + "\n")
            print(sections[-1], flush=True)
        if args.table == "variants":
            rows = variant_rows(args, coll, Path(tmp))
            sections.append("## DWSNet variants: MNIST INR classification (the best validation step's weights)\n\n"
                            + markdown_table(["model", "training INRs", "test accuracy %", "val accuracy %",
                                              "train accuracy %", "parameters", "steps", "training s"], rows)
                            + "\n\nPublished (DWSNets, 55,000 training INRs): MLP 17.55 %, MLP + augmentation "
                            "29.26 %, DWSNets 85.71 %.\n")
            print(sections[-1], flush=True)
        if args.table in ("edit", "both"):
            rows = run_rows(args, coll, Path(tmp), "edit")
            sections.append("## INR editing: dilation by a 3 x 3 square (test MSE, pixels in [0, 1])\n\n" + markdown_table(
                ["model", "probes", "test MSE, edited", "test MSE, unedited", "parameters", "steps", "training s (mean)",
                 "seeds", "published MSE"], rows) + "\n")
            print(sections[-1], flush=True)
    write_report(args.out, sections)


if __name__ == "__main__":
    main()
