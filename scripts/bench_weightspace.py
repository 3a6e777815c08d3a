"""Classify MNIST INRs from their weights (the DWSNets benchmark).

    python scripts/bench_weightspace.py                  # fits the collection, then trains every model
    python scripts/bench_weightspace.py --collection runs/mnist-dwsnets --siren-collection runs/mnist-siren-random

The collection: SIREN 2->32->32->1 (omega0 = 30) on the 10,000 MNIST test
digits with `inr fit-many`, made as DWSNets made theirs
(configs/collections/mnist_dwsnets.yaml: an independent random init per
digit, the first layer initialised like the others). Split 8,000 / 1,000 /
1,000 by signal (fixed seed). Rows: MLP on the flattened weights, the same
with random permutation augmentation, DWSNets with linear set layers and
with attention in them (DWSNets' SAB default), with and without input-space
augmentation, and with probe features (each field's neuron activations at 64
learned input points, Kofinas et al. 2024). Optional rows: the DWSNet
with probes on a random-init collection of standard SIRENs (--siren-collection, made
with the built-in image collection default and collection.init=random), and
the MLP on a shared-init collection (--shared-collection), whose neurons are
aligned across fields. Writes scripts/results/bench_weightspace.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, fit_mnist_collection, markdown_table, report_header, write_report  # noqa: E402

# every row: AdamW, lr 3e-3 with 200 warm-up steps and cosine decay, batch 128 (the training defaults)
DWS = ["model.name=dws", "model.probes=0"]  # DWSNets: weights only
ROWS = [("MLP on weights", ["model.name=mlp"]),
        ("MLP + permutation augmentation", ["model.name=mlp", "augment=true"]),
        ("DWSNet, linear set layers (max pooling)", [*DWS, "model.attention=false"]),
        ("DWSNet, attention in the set layers", [*DWS, "model.attention=true"]),
        ("DWSNet, attention + input augmentation", [*DWS, "model.attention=true", "input_augment=true"]),
        ("DWSNet + 64 probe features, linear set layers (the default)", ["model.name=dws", "model.attention=false",
                                                                        "model.probes=64"]),
        ("DWSNet + 64 probe features, attention + input augmentation", ["model.name=dws", "model.probes=64",
                                                                        "model.attention=true", "input_augment=true"])]
SIREN_ROWS = [ROWS[5]]  # on a standard SIREN collection


def train(collection: Path, sets: list[str], steps: int, out: Path) -> dict:
    from inr.runs import run_config
    from inr.weightspace.runs import train_run
    from inr.weightspace.train import WeightTrainConfig

    cfg = run_config([], [f"train.steps={steps}", *sets], {}, WeightTrainConfig)
    return train_run(cfg, collection, out, overwrite=True, quiet=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--collection", type=Path, help="an existing mnist_dwsnets.yaml collection (else fitted here)")
    p.add_argument("--siren-collection", type=Path, help="also train the DWSNet with probes on this random-init "
                   "collection of standard SIRENs")
    p.add_argument("--shared-collection", type=Path, help="also train the MLP on a shared-init collection")
    p.add_argument("--steps", type=int, default=4000, help="training steps of rows that do not set their own")
    p.add_argument("--rows", nargs="+", type=int, help="only these rows (0-based, in the table's order)")
    p.add_argument("--out", type=Path, default=RESULTS / "bench_weightspace.md")
    args = p.parse_args()
    sections = [report_header("bench_weightspace", sys.argv[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        coll = args.collection
        if coll is None:
            coll = Path(tmp) / "mnist_dwsnets"
            fit_mnist_collection(coll, "random", "mnist_dwsnets.yaml")
        rows = []
        jobs = [(name, coll, sets) for i, (name, sets) in enumerate(ROWS) if args.rows is None or i in args.rows]
        if args.siren_collection:
            jobs.extend((name + ", standard SIREN collection", args.siren_collection, sets)
                        for name, sets in SIREN_ROWS)
        if args.shared_collection:
            jobs.append(("MLP on weights, shared-init collection", args.shared_collection, ["model.name=mlp"]))
        for name, c, sets in jobs:
            m = train(c, sets, args.steps, Path(tmp) / f"row{len(rows)}")
            rows.append([name, m["train_count"], m["test_accuracy"] * 100, m["val_accuracy"] * 100,
                         m["train_accuracy"] * 100, m["parameters"], m["steps"], m["seconds"]])
            print(f"  {rows[-1]}", flush=True)
    header = ["model", "training INRs", "test accuracy %", "val accuracy %", "train accuracy %", "parameters",
              "steps", "training s"]
    sections.append("## MNIST INR classification (batch 128, AdamW 3e-3, 200 warm-up steps, cosine decay; "
                    "the best validation step's weights)\n\n"
                    + markdown_table(header, rows) + "\n\nPublished (DWSNets, 55,000 training INRs): MLP 17.55 %, "
                    "MLP + augmentation 29.26 %, DWSNets 85.71 %.\n")
    print(sections[-1])
    write_report(args.out, sections)


if __name__ == "__main__":
    main()
