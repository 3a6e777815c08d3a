"""Compare every image model: time to quality, regression and generalisation.

    python scripts/bench_encodings.py                          # the speed, quality and sape parts
    python scripts/bench_encodings.py --part speed --seconds 60
    python scripts/bench_encodings.py --part quality --size 256 --steps 300 --models ffn_gauss cam hash
    python scripts/bench_encodings.py --budget                 # every model at 3, 1, 0.5, 0.25 params per pixel
    python scripts/bench_encodings.py --budget 1 0.25 --models siren hash compact --photos camera coffee

Part "speed": cameraman at 256², each model with its own config, training
wall time (compile included, evaluation excluded) to reach 30/35/40 dB and
PSNR after --seconds seconds. Part "quality": natural images plus a rendered
text image, regression (train on all pixels) and generalisation (train on
every other pixel, score on the full image and on the untrained pixels). Prints tables and writes
scripts/results/bench_encodings.md and a PSNR-against-seconds plot.

With --budget, the size part instead (scripts/results/bench_encodings_budget.md):
each model at equal size, at most B parameters per pixel of a 256² image for each
B given; a model is made that size by its hash tables
(model.encoding.max_params_per_sample) or else by the widest hidden layers that
fit. Time to 30/35/40 dB and PSNR after 30 s and 60 s (compile included), on
each photo, and a PSNR-against-size plot (the rate-distortion view).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, markdown_table, report_header, write_report  # noqa: E402
from bench_image import NATURAL, natural_image  # noqa: E402

from inr.fields.model import build_field  # noqa: E402
from inr.modalities.image_io import write_image  # noqa: E402
from inr.runs import fit_run, run_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["siren", "finer", "spder", "wire", "gauss", "ffn_pe", "ffn_gauss", "rbf", "cam", "sape", "hash"]
BUDGET_MODELS = [*MODELS, "compact"]
PHOTOS = ["camera", "astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"]
THRESHOLDS = (30.0, 35.0, 40.0)


def fit(model: str, image: Path, workdir: Path, sets: list[str]) -> dict:
    files = [ROOT / "configs" / "image" / f"{model}.yaml"]
    cfg = run_config(files, sets, {"modality": "image", "input": str(image)})
    out = workdir / f"{model}_{image.stem}"
    metrics = fit_run(cfg, out, overwrite=True, quiet=True)
    metrics["history"] = json.loads((out / "history.json").read_text())
    return metrics


def text_image(size: int, workdir: Path) -> Path:
    """Black text on white, like FFN's text set, rendered with matplotlib's font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(size / 100, size / 100), dpi=100)
    words = ["Neural fields", "fit signals", "in JAX: 0123", "sin cos exp", "hash grid"]
    for i, w in enumerate(words):
        fig.text(0.05, 0.85 - i * 0.18, w, fontsize=size / 14, family="DejaVu Sans")
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.float32) / 255.0
    plt.close(fig)
    path = workdir / f"text_{size}.png"
    write_image(path, rgba)
    return path


def part_speed(workdir: Path, models: list[str], budget: float, photos: list[str]) -> tuple[str, dict]:
    from PIL import Image

    cam = workdir / "cameraman_256.png"
    Image.open(ROOT / "assets" / "cameraman.png").resize((256, 256), Image.BILINEAR).save(cam)
    budget_sets = ["data.resize=null", f"train.max_seconds={budget}", "train.steps_per_call=10",
                   "train.checkpoint_every=1000000"]
    rows, curves = [], {}
    for model in models:
        m = fit(model, cam, workdir, budget_sets)
        hist = m["history"]
        curves[model] = [(r["seconds"], r["psnr"]) for r in hist]
        reach = [next((f"{r['seconds']:.1f}" for r in hist if r["psnr"] >= t), "—") for t in THRESHOLDS]
        within = [r["psnr"] for r in hist if r["seconds"] <= budget]
        rows.append([model, m["param_count"], m["seconds_per_step"], *reach,
                     within[-1] if within else float("nan"), m["steps"]])
        print(f"  {model:10s} {rows[-1]}", flush=True)
    header = ["model", "params", "s/step", *[f"s to {t:.0f} dB" for t in THRESHOLDS], f"PSNR @ {budget:.0f} s", "steps"]
    text = (f"## Time to quality: cameraman 256², each model's own config, training capped at {budget:.0f} s "
            "(compile included)\n\n" + markdown_table(header, rows) + "\n")
    if photos:
        default_rows = []
        for name in photos:
            path = natural_image(name, 256, workdir, gray=True)
            cfg = run_config([], budget_sets, {"modality": "image", "input": str(path)})
            m = fit_run(cfg, workdir / f"default_{name}", overwrite=True, quiet=True)
            default_rows.append([name, m["psnr"], m["steps"], m["wall_seconds"]])
            print(f"  default on {name}: {default_rows[-1]}", flush=True)
        text += (f"\n### The default model (`inr fit image` with no config) on 256² grayscale photos, {budget:.0f} s\n\n"
                 + markdown_table(["photo", "PSNR", "steps", "training seconds"], default_rows) + "\n")
    return text, curves


# CAM's training protocol for every model of the quality part, so the
# comparison is of the models, not their schedules: Adam, lr x0.1 at 50% and 75%.
QUALITY_SCHEDULE = ["train.schedule=step", "train.boundaries=[0.5, 0.75]", "train.decay_rate=0.1"]


def _mean_std(xs: list[float]) -> str:
    return f"{np.mean(xs):.2f} ± {np.std(xs):.2f}" if xs else "—"


def sized(model: str, per_pixel: float, pixels: int, image: Path) -> list[str] | None:
    """The sets that make ``model`` hold at most ``per_pixel`` parameters a
    pixel: its hash tables where it has them, else its hidden width (None if
    even width 4 is too big)."""
    files = [ROOT / "configs" / "image" / f"{model}.yaml"]
    cfg = run_config(files, [], {"modality": "image", "input": str(image)})
    if cfg.model.encoding.name == "hash":
        return [f"model.encoding.max_params_per_sample={per_pixel}"]
    out_dim = 1
    fits = [w for w in range(4, 1025, 4)
            if build_field(replace(cfg.model, hidden_width=w), 2, out_dim).param_count()
            <= per_pixel * pixels]
    return [f"model.hidden_width={fits[-1]}"] if fits else None


def part_budget(workdir: Path, models: list[str], budgets: list[float], photos: list[str]) -> tuple[str, dict]:
    size, pixels = 256, 256 * 256
    # each model's own config and schedule, stopped at 60 s if it has not finished by then
    common = ["data.resize=null", "train.max_seconds=60", "train.steps_per_call=10", "train.checkpoint_every=1000000"]
    rows, points = [], {}
    for name in photos:
        path = natural_image(name, size, workdir, gray=True)
        for model in models:
            for b in budgets:
                sets = sized(model, b, pixels, path)
                if sets is None:
                    rows.append([name, model, f"≤ {b:g}", "too big at width 4", *[""] * 7])
                    continue
                m = fit(model, path, workdir, common + sets)
                hist = m["history"]
                reach = [next((f"{r['seconds']:.1f}" for r in hist if r["psnr"] >= t), "—") for t in THRESHOLDS]
                at = [max((r["psnr"] for r in hist if r["seconds"] <= s), default=float("nan")) for s in (30, 60)]
                rows.append([name, model, f"≤ {b:g}", m["param_count"], f"{m['params_per_sample']:.3f}",
                             " ".join(sets), *reach, *at])
                points.setdefault((name, model), []).append((m["param_count"] / pixels, at[1]))
                print(f"  {rows[-1]}", flush=True)
    header = ["photo", "model", "budget (params/pixel)", "params", "params/pixel", "sized by",
              *[f"s to {t:.0f} dB" for t in THRESHOLDS], "PSNR @ 30 s", "PSNR @ 60 s"]
    return ("## Quality at a size: 256² grayscale photos, each model at most B parameters per pixel "
            "(196,608 / 65,536 / 32,768 / 16,384 for B = 3 / 1 / 0.5 / 0.25), 60 s of training, compile "
            "included\n\n" + markdown_table(header, rows) + "\n"), points


def plot_budget(points: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    colours, markers = plt.cm.tab20.colors, "osD^v<>p*hX"  # a distinct colour-marker pair for each of up to 220 lines
    for i, ((photo, model), pts) in enumerate(sorted(points.items())):
        ax.plot(*zip(*sorted(pts)), marker=markers[i % len(markers)], color=colours[i % len(colours)], lw=1,
                label=f"{model} ({photo})")
    ax.set_xscale("log")
    ax.set_xlabel("parameters per pixel")
    ax.set_ylabel("PSNR (dB) after 60 s")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def part_quality(workdir: Path, models: list[str], size: int, steps: int, images: list[str],
                 settings: list[str]) -> str:
    paths = [natural_image(n, size, workdir) for n in images] + [text_image(size, workdir)]
    rows = []
    for model in models:
        scores = {k: [] for k in ("reg", "gen", "held", "txt_reg", "txt_gen", "txt_held")}
        sps = []
        for p in paths:
            common = [f"train.steps={steps}", "data.resize=null", "train.checkpoint_every=1000000", *QUALITY_SCHEDULE]
            prefix = "txt_" if p.stem.startswith("text") else ""
            done = []
            if "regression" in settings:
                r = fit(model, p, workdir, common + ["data.split=all"])
                scores[prefix + "reg"].append(r["psnr"])
                sps.append(r["seconds_per_step"])
                done.append(f"regression {r['psnr']:.2f}")
            if "generalisation" in settings:
                g = fit(model, p, workdir, common + ["data.split=even"])
                scores[prefix + "gen"].append(g["psnr"])  # the full image, as FFN and CAM score it
                scores[prefix + "held"].append(g["test_psnr"])  # only the pixels never trained on
                sps.append(g["seconds_per_step"])
                done.append(f"generalisation {g['psnr']:.2f} (held-out {g['test_psnr']:.2f})")
            print(f"    {model} {p.stem}: {', '.join(done)}", flush=True)
        rows.append([model, *(_mean_std(scores[k]) for k in ("reg", "gen", "held")),
                     *(f"{scores[k][0]:.2f}" if scores[k] else "—" for k in ("txt_reg", "txt_gen", "txt_held")),
                     statistics.median(sps)])
        print(f"  {model:10s} {rows[-1]}", flush=True)
    header = ["model", "regression natural", "generalisation natural", "held-out natural", "regression text",
              "generalisation text", "held-out text", "s/step"]
    return (f"## Regression and generalisation ({size}² images: {', '.join([*images, 'rendered text'])}; "
            f"{steps} steps, lr x0.1 at 50% and 75% for every model; generalisation trains on every other pixel "
            "in each axis and is scored on the full image, as in FFN and CAM; held-out: only the untrained "
            "pixels)\n\n" + markdown_table(header, rows) + "\n")


def part_sape(workdir: Path, size: int, steps: int, images: list[str]) -> str:
    """SAPE against the same network with all of its Fourier features always
    on (plain FF, sigma 20), both trained on a fixed random 25% of the pixels."""
    plain = ["model.encoding.name=gauss_rff"]
    rows = []
    for name in images:
        path = natural_image(name, size, workdir)
        common = [f"train.steps={steps}", "data.split=random25", "train.checkpoint_every=1000000"]
        s = fit("sape", path, workdir, common)
        f = fit("sape", path, workdir, common + plain)
        rows.append([name, s["test_psnr"], f["test_psnr"], s["train_psnr"], f["train_psnr"]])
        print(f"  {rows[-1]}", flush=True)
    rows.append(["mean", *[float(np.mean([r[i] for r in rows])) for i in range(1, 5)]])
    better = "yes" if rows[-1][1] > rows[-1][2] else "NO"
    return (f"## SAPE vs plain Fourier features, trained on a random 25% of pixels ({size}², {steps} steps)\n\n"
            + markdown_table(["image", "SAPE test PSNR", "FF test PSNR", "SAPE train PSNR", "FF train PSNR"], rows)
            + f"\n\nSAPE above plain FF on held-out pixels: {better}.\n")


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for name, pts in curves.items():
        if pts:
            ax.plot(*zip(*pts), label=name, marker=".", lw=1)
    ax.set_xlabel("training wall seconds (compile included)")
    ax.set_ylabel("PSNR (dB), cameraman 256²")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["all", "speed", "quality", "sape"], default="all")
    p.add_argument("--models", nargs="+", default=MODELS)
    p.add_argument("--seconds", type=float, default=60.0, help="speed part: training time cap")
    p.add_argument("--budget", type=float, nargs="*", default=None, metavar="B",
                   help="run the size part instead: at most B parameters per pixel (default 3 1 0.5 0.25)")
    p.add_argument("--photos", nargs="*", default=NATURAL, help="speed part: photos for the default model")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--images", nargs="*", default=NATURAL, help="natural images (the text image is always added)")
    p.add_argument("--settings", nargs="+", choices=["regression", "generalisation"],
                   default=["regression", "generalisation"], help="quality part: which settings to run")
    p.add_argument("--out", type=Path, default=RESULTS / "bench_encodings.md")
    args = p.parse_args()
    if args.budget is not None:
        budget_main(args)
        return
    sections = [report_header("bench_encodings", sys.argv[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        if args.part in ("all", "speed"):
            text, curves = part_speed(Path(tmp), args.models, args.seconds, args.photos)
            sections.append(text)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            plot(curves, args.out.with_suffix(".png"))
            print(text, flush=True)
        if args.part in ("all", "quality"):
            sections.append(part_quality(Path(tmp), args.models, args.size, args.steps, args.images,
                                         args.settings))
            print(sections[-1], flush=True)
        if args.part in ("all", "sape"):
            sections.append(part_sape(Path(tmp), args.size, args.steps, args.images))
            print(sections[-1], flush=True)
    write_report(args.out, sections)


def budget_main(args) -> None:
    budgets = args.budget or [3.0, 1.0, 0.5, 0.25]
    models = args.models if args.models != MODELS else BUDGET_MODELS
    photos = args.photos if args.photos != NATURAL else PHOTOS
    out = args.out if args.out != RESULTS / "bench_encodings.md" else RESULTS / "bench_encodings_budget.md"
    with tempfile.TemporaryDirectory() as tmp:
        text, points = part_budget(Path(tmp), models, budgets, photos)
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    plot_budget(points, out.with_suffix(".png"))
    write_report(out, [report_header("bench_encodings", sys.argv[1:]), text])


if __name__ == "__main__":
    main()
