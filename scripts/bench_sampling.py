"""Training-sample selection: every ``train.sampler`` against ``uniform`` on the same model and step budget.

    python scripts/bench_sampling.py                       # every case but FINER++'s 5,000-step protocol
    python scripts/bench_sampling.py --cases siren-camera hash-camera finerpp-camera
    python scripts/bench_sampling.py --small               # seconds: 64² images, few steps (a smoke run)

For each case both runs train the same config for the same steps; from their
histories (the training metric after every chunk, with the wall time so far,
compile included) the table gives each run's final quality, its wall time, the
time the sampler needs to reach uniform's final quality (and that as a share of
uniform's time), and each run's quality at the shorter run's wall time.
Prints the table and writes scripts/results/bench_sampling.md (or --out).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, markdown_table, report_header, write_report  # noqa: E402
from bench_image import natural_image  # noqa: E402

from inr.errors import InrError  # noqa: E402
from inr.runs import fit_run, run_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MESHES = ROOT.parent / "shared" / "data" / "meshes"
SAMPLERS = ["int", "evos", "soft_mining", "nint"]
PHOTOS = ["camera", "astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"]


def _photo(name, size):
    return lambda work: natural_image(name, size, work)


def _mesh(name):
    """A mesh of the shared data, or the bundled copy where there is one (a machine without ../shared)."""
    return lambda work: MESHES / name if (MESHES / name).is_file() else ROOT / "assets" / name


SIREN = ["configs/image/siren.yaml"]
# name -> (modality, config files, sets, input maker, metric)
CASES = {
    **{f"siren-{p}": ("image", SIREN, [], _photo(p, 256), "psnr") for p in PHOTOS},
    # FINER++'s protocol: SIREN 3 x 256, 5,000 full-batch steps (uniform 34 min on a 2-core CPU: not in the CPU default)
    "finerpp-camera": ("image", SIREN, ["model.hidden_layers=3", "train.steps=5000", "train.steps_per_call=100",
                                        "train.checkpoint_every=1000"], _photo("camera", 256), "psnr"),
    "hash-camera": ("image", [], [], _photo("camera", 512), "psnr"),
    "hash-coffee": ("image", [], [], _photo("coffee", 512), "psnr"),
    "audio-bach": ("audio", [], [], lambda work: ROOT / "assets/bach-1s.wav", "snr"),
    "sdf-cow": ("sdf", [], [], _mesh("cow.obj"), "iou"),
    "sdf-bunny": ("sdf", [], [], _mesh("stanford-bunny.obj"), "iou"),
}
CPU_CASES = [c for c in CASES if c != "finerpp-camera"]
SMALL = {"image": ["data.resize=[64,64]", "train.steps=40", "train.steps_per_call=10"],
         "audio": ["data.duration=0.1", "train.steps=40", "train.steps_per_call=10"],
         "sdf": ["data.samples=20000", "train.steps=40", "train.steps_per_call=10", "data.iou_resolution=32"]}


def fit(case, sampler: str, work: Path, small: bool) -> dict:
    modality, files, sets, make_input, metric = CASES[case]
    extra = SMALL[modality] if small else []
    cfg = run_config([str(ROOT / f) for f in files], [*sets, *extra, f"train.sampler={sampler}"],
                     {"modality": modality, "input": str(make_input(work))})
    out = work / f"{case}-{sampler}"
    metrics = fit_run(cfg, out, overwrite=True, quiet=True)
    history = json.loads((out / "history.json").read_text())
    return {"metrics": metrics, "history": history, "metric": metric}


def time_to(history, metric, target) -> float:
    """Wall seconds at the first logged chunk whose metric reaches ``target`` (inf if none)."""
    return next((r["seconds"] for r in history if r[metric] >= target), float("inf"))


def at_time(history, metric, seconds) -> float:
    """The metric of the last logged chunk that ended by ``seconds``."""
    done = [r[metric] for r in history if r["seconds"] <= seconds + 1e-9]
    return done[-1] if done else float("nan")


SHOWN = {"iou": 100.0}
"""metrics the table gives in percent (IoU), so that two decimals still tell runs apart"""


def rows_for(case, runs: dict) -> list:
    base = runs["uniform"]
    metric, hist = base["metric"], base["history"]
    target, t_base = hist[-1][metric], hist[-1]["seconds"]
    shown = SHOWN.get(metric, 1.0)
    rows = []
    for name, run in runs.items():
        h = run["history"]
        t_end = h[-1]["seconds"]
        reach = time_to(h, metric, target)
        equal = min(t_base, t_end)
        rows.append([case, name, h[-1]["step"], run["metrics"]["param_count"], h[-1][metric] * shown, t_end, reach,
                     f"{100 * reach / t_base:.0f} %" if np.isfinite(reach) else "not reached",
                     at_time(h, metric, equal) * shown, equal])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="+", choices=list(CASES), default=CPU_CASES)
    ap.add_argument("--samplers", nargs="+", default=SAMPLERS)
    ap.add_argument("--small", action="store_true", help="tiny signals and few steps: checks the script runs")
    ap.add_argument("--out", type=Path, default=RESULTS / "bench_sampling.md")
    args = ap.parse_args()
    rows, refused = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for case in args.cases:
            runs = {}
            for sampler in ["uniform", *args.samplers]:
                try:
                    runs[sampler] = fit(case, sampler, work, args.small)
                except InrError as e:  # a sampler this modality's training cannot use
                    refused.append(f"- {case}, {sampler}: refused ({e})")
                    print(refused[-1], flush=True)
            rows += rows_for(case, runs)
            print(markdown_table(HEADER, rows[-len(runs):]), flush=True)
    table = markdown_table(HEADER, rows)
    print(table)
    write_report(args.out, [report_header("bench_sampling", sys.argv[1:]),
                            "Each case: the same config and steps with each sampler; the training metric (PSNR dB, "
                            "SNR dB, IoU %) logged after every chunk with the wall time so far, compile included.\n",
                            table, "\n".join(refused), ""])


HEADER = ["case", "sampler", "steps", "params", "final", "wall s", "s to uniform's final", "share of uniform's time",
          "quality at equal time", "equal time s"]

if __name__ == "__main__":
    main()
