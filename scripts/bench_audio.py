"""SNR against wall time on the SIREN paper's audio clips.

    python scripts/bench_audio.py                                  # both clips, 300 s per model
    python scripts/bench_audio.py --budget 60 --models hash siren --clips bach

Every model trains on minibatches of samples (the full-clip protocol of the
paper is far too slow on a CPU) until its training budget runs out; SNR is
measured on the whole clip after every chunk (not counted in the budget).
Prints a table and writes scripts/results/bench_audio.md and a plot of SNR
against training seconds.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, markdown_table, report_header, write_report  # noqa: E402

from inr.runs import run_config  # noqa: E402
from inr.plots import curves_png  # noqa: E402
from inr.runs import fit_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLIPS = {"bach": "gt_bach.wav", "counting": "gt_counting.wav"}
# model -> overrides of its config for a CPU (minibatches of samples, lr for that batch)
MODELS = {
    "siren": ["train.batch_size=8192", "train.steps=100000", "train.steps_per_call=250"],
    "spder": ["train.batch_size=8192", "train.steps=100000", "train.steps_per_call=250"],
    "hash": ["train.steps=4000", "train.steps_per_call=200"],
}
TARGET = 30.0


def seconds_to(history: list[dict], level: float):
    return next((r["seconds"] for r in history if r["snr"] >= level), None)


def snr_at(history: list[dict], seconds: float):
    done = [r["snr"] for r in history if r["seconds"] <= seconds]
    return max(done) if done else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "audio"), help="folder with the clips")
    ap.add_argument("--clips", nargs="+", default=list(CLIPS), choices=list(CLIPS))
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    ap.add_argument("--budget", type=float, default=300.0, help="training seconds per model and clip")
    ap.add_argument("--out", default=str(RESULTS / "bench_audio.md"))
    args = ap.parse_args(argv)

    rows, curves = [], {}
    with tempfile.TemporaryDirectory() as work:
        for clip in args.clips:
            path = Path(args.data) / CLIPS[clip]
            for model in args.models:
                sets = MODELS[model] + [f"train.max_seconds={args.budget}"]
                cfg = run_config([ROOT / "configs" / "audio" / f"{model}.yaml"], sets,
                                      {"modality": "audio", "input": str(path)})
                t0 = time.perf_counter()
                metrics = fit_run(cfg, Path(work) / f"{clip}-{model}", overwrite=True, quiet=True)
                wall = time.perf_counter() - t0
                history = json.loads((Path(work) / f"{clip}-{model}" / "history.json").read_text())
                curves[f"{model} / {clip}"] = history
                to_target = seconds_to(history, TARGET)
                rows.append([clip, model, metrics["param_count"], cfg.train.batch_size or "full",
                             round(metrics["seconds_per_step"], 4), metrics["steps"],
                             snr_at(history, 60.0) or "—", round(metrics["snr"], 2),
                             round(to_target, 1) if to_target is not None else "not reached",
                             round(metrics["wall_seconds"], 1), round(wall, 1)])
                print(" | ".join(str(v) for v in rows[-1]), flush=True)

    header = ["clip", "model", "params", "batch", "s/step", "steps", "SNR @ 60 s (dB)", "final SNR (dB)",
              f"s to {TARGET:.0f} dB", "training s", "wall s (load, eval, outputs)"]
    table = markdown_table(header, rows)
    print(table)
    out = Path(args.out)
    curves_png(curves, out.with_suffix(".png"), "snr", "SNR (dB), whole clip")
    write_report(out, [report_header("bench_audio", sys.argv[1:] if argv is None else argv),
                       f"Training budget {args.budget:.0f} s per model and clip; SNR on the whole clip, "
                       "normalised by its peak.\n", table, f"\n![SNR against seconds]({out.with_suffix('.png').name})\n"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
