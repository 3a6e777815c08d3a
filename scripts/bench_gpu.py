"""The GPU benchmark: the project's speed figures in one run on one accelerator.

    bash scripts/bench_gpu.sh                # everything, on one H100 / H200 (meant for <= 8 minutes; not yet run on one)
    bash scripts/bench_gpu.sh --small        # seconds, on a CPU: checks the script (tested)

Rows: SIREN's Colab protocol (s/step, PSNR at 500 steps); the built-in image
default on the 512² cameraman (wall time to 40 dB, final PSNR); fit-many on the
10,000 MNIST test digits with the built-in collection default (fields/s); the
built-in hash-grid SDF fit of cow.obj (IoU, wall time); and the samplers of
``train.sampler`` against uniform (scripts/bench_sampling.py's SIREN rows,
FINER++'s 5,000-step protocol included). Prints the table and writes
scripts/results/bench_gpu.md (or --out). Nothing in the project needs a GPU;
this script only measures one.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import MNIST, RESULTS, markdown_table, report_header, write_report  # noqa: E402
from bench_sampling import SAMPLERS, fit as fit_sampled, rows_for  # noqa: E402

from inr.collections.config import CollectionRunConfig  # noqa: E402
from inr.collections.fitmany import fit_many  # noqa: E402
from inr.runs import fit_run, run_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "assets" / "mnist-100-images-idx3-ubyte.gz"


def _fit(modality, files, sets, path, out):
    cfg = run_config([str(ROOT / f) for f in files], sets, {"modality": modality, "input": str(path)})
    metrics = fit_run(cfg, out, overwrite=True, quiet=True)
    return metrics, json.loads((out / "history.json").read_text())


def siren_colab(work: Path, small: bool) -> list:
    sets = ["data.resize=[32,32]", "train.steps=20", "train.steps_per_call=10"] if small else []
    m, h = _fit("image", ["configs/image/siren.yaml"], sets, ROOT / "assets/cameraman.png", work / "siren")
    return [["SIREN, Colab protocol (cameraman 256², 2-256x4-1, 500 steps)", f"{m['seconds_per_step']:.4f} s/step",
             f"PSNR@{m['steps']} {m['psnr']:.2f} dB", h[-1]["seconds"]]]


def default_image(work: Path, small: bool) -> list:
    sets = ["train.steps_per_call=10"] + (["data.resize=[64,64]", "train.steps=20"] if small else [])
    m, h = _fit("image", [], sets, ROOT / "assets/cameraman.png", work / "default")
    reach = next((r["seconds"] for r in h if r["psnr"] >= 40.0), None)
    to40 = f"{reach:.1f} s to 40 dB" if reach is not None else "40 dB not reached"
    return [[f"image default (cameraman 512², {m['param_count']:,} params, {m['steps']} steps)", to40,
             f"final {m['psnr']:.2f} dB", h[-1]["seconds"]]]


def collection(work: Path, small: bool, mnist: Path) -> list:
    source, limit = (DIGITS, 16) if small else (mnist, 0)
    sets = ["train.steps=10", "collection.chunk_size=8"] if small else []
    cfg = run_config([], sets, {"modality": "image", "input": str(source),
                                **({"collection": {"limit": limit}} if limit else {})}, CollectionRunConfig)
    t = time.perf_counter()
    summary = fit_many(cfg, work / "digits", overwrite=True, quiet=True)
    wall = time.perf_counter() - t
    meta = json.loads((work / "digits" / "collection.json").read_text())
    psnr = [f["metrics"]["psnr"] for f in meta["fields"]]
    n = summary.get("fields", len(psnr))
    return [[f"fit-many, {n:,} MNIST digits (built-in collection default)", f"{n / wall:.1f} fields/s",
             f"PSNR mean {sum(psnr) / len(psnr):.2f}, min {min(psnr):.2f} dB", wall]]


def sdf(work: Path, small: bool) -> list:
    sets = ["data.samples=20000", "train.steps=20", "train.steps_per_call=10", "data.iou_resolution=32"] if small else []
    m, h = _fit("sdf", [], sets, ROOT / "assets/cow.obj", work / "cow")
    return [[f"SDF default, hash grid (cow.obj, {m['steps']} steps)", f"IoU {m['iou']:.4f}",
             f"{m['seconds_per_step']:.4f} s/step", h[-1]["seconds"]]]


def samplers(work: Path, small: bool) -> list:
    rows = []
    for case in ["siren-camera"] if small else ["siren-camera", "finerpp-camera"]:
        runs = {s: fit_sampled(case, s, work, small) for s in ["uniform", *SAMPLERS]}
        for r in rows_for(case, runs):
            rows.append([f"sampler {r[1]}, {r[0]} ({r[2]} steps)", f"final {r[4]:.2f}",
                         f"to uniform's final: {r[7]}; at equal time {r[8]:.2f}", r[5]])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="tiny sizes and few steps: seconds on a CPU")
    ap.add_argument("--mnist", type=Path, default=MNIST, help="the MNIST test images (IDX) for fit-many")
    ap.add_argument("--out", type=Path, default=RESULTS / "bench_gpu.md")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for item in (siren_colab, default_image, sdf, samplers):
            rows += item(work, args.small)
            print(markdown_table(HEADER, rows[-1:]), flush=True)
        rows += collection(work, args.small, args.mnist)
    table = markdown_table(HEADER, rows)
    print(table)
    write_report(args.out, [report_header("bench_gpu", sys.argv[1:]), table, ""])


HEADER = ["run", "speed", "quality", "wall s (compile included)"]

if __name__ == "__main__":
    main()
