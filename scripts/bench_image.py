"""Image benchmarks: SIREN's Colab protocol and Tancik et al.'s encodings.

    python scripts/bench_image.py                 # both parts, full protocols
    python scripts/bench_image.py --part siren
    python scripts/bench_image.py --part ffn --size 256 --steps 500 --images camera astronaut
    python scripts/bench_image.py --part seeds --seeds 0 1 2   # JAX against PyTorch (needs torch)
    python scripts/bench_image.py --part seeds --impls torch_inr_init   # PyTorch from inr's initial weights

Prints a table and writes scripts/results/bench_image.md (or --out).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, markdown_table, matmul_gflops, report_header, write_report  # noqa: E402
import _torch_siren  # noqa: E402

from inr.atomic import write_json  # noqa: E402
from inr.modalities.image_io import resize, write_image  # noqa: E402
from inr.runs import fit_run, run_config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NATURAL = ["astronaut", "coffee", "chelsea", "rocket"]


def siren_flops_per_step(n_pixels: int, widths: list[int]) -> float:
    """Forward matmuls 2 N sum(n_in n_out); backward about twice that."""
    fwd = 2.0 * n_pixels * sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return 3.0 * fwd


def run(config_files, sets, image: Path, workdir: Path, name: str) -> dict:
    cfg = run_config(config_files, sets, {"modality": "image", "input": str(image)})
    out = workdir / name
    metrics = fit_run(cfg, out, overwrite=True, quiet=True)
    metrics["history"] = json.loads((out / "history.json").read_text())
    return metrics


def part_siren(workdir: Path, steps: int) -> str:
    cfg = ROOT / "configs/image/siren.yaml"
    m = run([cfg], [f"train.steps={steps}"], ROOT / "assets/cameraman.png", workdir, "siren")
    at = {r["step"]: r["psnr"] for r in m["history"]}
    checkpoints = [s for s in (50, 100, 200, 500) if s <= steps]
    flops = siren_flops_per_step(256 * 256, [2, 256, 256, 256, 256, 1])
    gf = matmul_gflops()
    rows = [[
        "inr (JAX, polynomial sine)",
        *[at.get(s, float("nan")) for s in checkpoints],
        m["psnr"], m["ssim"], m["seconds_per_step"], flops / m["seconds_per_step"] / 1e9,
    ]]
    # XLA's own sine on the same step, timed over a few steps only
    exact = run([cfg], ["train.steps=30", "train.steps_per_call=10", "model.activation=sine_exact"],
                ROOT / "assets/cameraman.png", workdir, "siren_exact")
    rows.append(["inr (JAX, XLA sin), 30 steps timed", *["" for _ in checkpoints], "", "",
                 exact["seconds_per_step"], flops / exact["seconds_per_step"] / 1e9])
    header = ["model", *[f"PSNR@{s}" for s in checkpoints], "final PSNR (clipped)", "SSIM", "s/step (median)", "GFLOP/s"]
    return (
        "## 1. SIREN, the paper's Colab protocol (cameraman 256², 2-256x4-1, Adam 1e-4, full batch)\n\n"
        + markdown_table(header, rows)
        + f"\n\nStep cost: {flops:.3g} FLOP (matmuls, forward + backward). "
        f"This machine's fp32 matmul (65536x256 @ 256x256): numpy {gf['numpy']:.0f} GFLOP/s, "
        f"XLA {gf['xla']:.0f} GFLOP/s, so the matmul-only floor here is {flops / gf['xla'] / 1e9:.2f} s/step "
        f"at XLA's rate, {flops / gf['numpy'] / 1e9:.2f} s/step at numpy's.\n"
        "Reference (issue, a faster 2-core AVX-512 CPU): official PyTorch SIREN 25.1 / 26.7 / 29.6 / 35.7 dB "
        "at 1.04 s/step.\n"
    )


def prepared_camera(prep: str, workdir: Path) -> Path:
    """The 256² cameraman as one 8-bit file that every implementation reads:
    ``skimage`` = ``skimage.transform.resize(data.camera(), (256, 256), anti_aliasing=True)``,
    ``pil`` = the bundled 512² cameraman through PIL's bilinear filter."""
    from PIL import Image

    path = workdir / f"camera_256_{prep}.png"
    if prep == "skimage":
        from skimage import data, transform

        pixels = transform.resize(data.camera(), (256, 256), anti_aliasing=True)
        Image.fromarray(np.round(pixels * 255).astype(np.uint8)).save(path)
    else:
        Image.open(ROOT / "assets/cameraman.png").convert("L").resize((256, 256), Image.BILINEAR).save(path)
    return path


# name -> (label, how): a list is inr's --set overrides; a dict, the PyTorch reference's options (its version is
# put before the label): ``centres`` (inr's pixel-centre coordinates), ``inr_init`` (start from inr's weights)
SEED_IMPLS = {
    "poly": ("inr (JAX, polynomial sine)", []),
    "exact": ("inr (JAX, XLA sin)", ["model.activation.name=sine_exact"]),
    "torch": ("SIREN (official style)", {}),
    "torch_centres": ("SIREN, inr's pixel-centre coordinates", {"centres": True}),
    "torch_inr_init": ("SIREN from inr's initial weights, pixel centres", {"centres": True, "inr_init": True}),
}


def inr_initial_layers(seed: int, image: Path) -> list:
    """inr's SIREN weights before its first step for ``seed``, drawn as
    ``fit_run`` draws them."""
    from inr.fields.layout import mlp_layers
    from inr.modalities import MODALITIES
    from inr.runs import field_for, fit_keys

    cfg = run_config([ROOT / "configs/image/siren.yaml"], ["data.resize=null", f"seed={seed}"],
                     {"modality": "image", "input": str(image)})
    modality = MODALITIES.get("image")
    _, field = field_for(cfg, modality, modality.load(cfg.input, cfg.data))
    init_key, _ = fit_keys(cfg.seed)
    return [(np.asarray(w), np.asarray(b)) for w, b in mlp_layers(field.init(init_key))]


def _seed_row(impl: str, seed: int, image: Path, workdir: Path, steps: int, checkpoints: list[int]) -> list:
    name, how = SEED_IMPLS[impl]
    if isinstance(how, dict):
        import torch
        from PIL import Image

        name = f"PyTorch {torch.__version__} {name}"
        init = inr_initial_layers(seed, image) if how.get("inr_init") else None
        t = _torch_siren.fit(np.asarray(Image.open(image), np.float32) / 255.0, steps, seed, checkpoints,
                             centres=how.get("centres", False), init=init)
        at, final, sps = t["psnr_at"], t["psnr"], t["seconds_per_step"]
    else:
        m = run([ROOT / "configs/image/siren.yaml"],
                [f"train.steps={steps}", "data.resize=null", f"seed={seed}", *how], image, workdir, "seed")
        at, final, sps = {r["step"]: r["psnr"] for r in m["history"]}, m["psnr"], m["seconds_per_step"]
    return [name, seed, *[at.get(s, float("nan")) for s in checkpoints], final, sps]


def part_seeds(workdir: Path, steps: int, seeds: list[int], prep: str, impls: list[str], cache: Path) -> str:
    """The SIREN protocol on one prepared file, several seeds each side: our
    polynomial sine, XLA's sine, and the PyTorch reference. Each row is kept
    in ``cache`` (JSON) as it is measured, so an interrupted run goes on
    where it stopped; the table shows every cached row of these seeds."""
    image = prepared_camera(prep, workdir)
    checkpoints = [s for s in (50, 100, 200, 500) if s <= steps]
    done = json.loads(cache.read_text()) if cache.is_file() else {}
    skipped = []
    for seed in seeds:
        for impl in impls:
            key = f"{prep}|{steps}|{impl}|{seed}"
            if key in done:
                continue
            if isinstance(SEED_IMPLS[impl][1], dict) and not _torch_siren.available():
                skipped = ["PyTorch is not installed: its rows were skipped."]
                continue
            done[key] = _seed_row(impl, seed, image, workdir, steps, checkpoints)
            print(done[key], flush=True)
            write_json(cache, done)
    rows = [done[k] for k in sorted(done, key=lambda k: (int(k.split("|")[3]), list(SEED_IMPLS).index(k.split("|")[2])))
            if k.startswith(f"{prep}|{steps}|") and int(k.split("|")[3]) in seeds]
    finals: dict[str, list[float]] = {}
    for r in rows:
        finals.setdefault(r[0], []).append(r[-2])
    summary = [[name, len(v), f"{np.mean(v):.2f} ± {np.std(v):.2f}", min(v), max(v)] for name, v in finals.items()]
    return (
        f"## SIREN on one file, seeds {', '.join(map(str, seeds))} (cameraman 256² prepared by {prep}; "
        f"2-256x4-1, Adam 1e-4, {steps} full-batch steps)\n\n"
        + markdown_table(["implementation", "seed", *[f"PSNR@{s}" for s in checkpoints], "final PSNR (clipped)",
                          "s/step (median)"], rows)
        + "\n\n" + markdown_table(["implementation", "seeds", f"PSNR@{steps} mean ± std", "min", "max"], summary)
        + "\n" + "".join(f"\n{line}\n" for line in skipped)
    )


def natural_image(name: str, size: int, workdir: Path, gray: bool = False) -> Path:
    """A centred square crop of a scikit-image sample, resized to ``size``²."""
    from skimage import data

    pixels = np.asarray(getattr(data, name)(), np.float32) / 255.0
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if gray and pixels.shape[-1] == 3:
        pixels = pixels @ np.array([[0.2125], [0.7154], [0.0721]], np.float32)  # Rec. 709 luma
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = pixels[top:top + side, left:left + side]
    path = workdir / f"{name}_{size}{'_gray' if gray else ''}.png"
    write_image(path, resize(square, (size, size)))
    return path


ENCODINGS = {
    "none": ["model.encoding.name=identity", "train.lr=1e-2"],
    "nerf PE": [],
    "gauss RFF": [],
}
ENCODING_CONFIGS = {"none": "ffn_pe.yaml", "nerf PE": "ffn_pe.yaml", "gauss RFF": "ffn_gauss.yaml"}


def part_ffn(workdir: Path, size: int, steps: int, images: list[str]) -> str:
    results: dict[str, list[float]] = {k: [] for k in ENCODINGS}
    train: dict[str, list[float]] = {k: [] for k in ENCODINGS}
    sps: dict[str, list[float]] = {k: [] for k in ENCODINGS}
    for img in images:
        path = natural_image(img, size, workdir)
        for enc, sets in ENCODINGS.items():
            cfg = ROOT / "configs/image" / ENCODING_CONFIGS[enc]
            m = run([cfg], sets + ["data.split=even", f"train.steps={steps}"], path, workdir, f"{img}_{enc}")
            results[enc].append(m["test_psnr"])
            train[enc].append(m["train_psnr"])
            sps[enc].append(m["seconds_per_step"])
            print(f"  {img:10s} {enc:10s} train {m['train_psnr']:.2f} dB  test {m['test_psnr']:.2f} dB", flush=True)
    paper = {"none": 19.32, "nerf PE": 24.95, "gauss RFF": 25.57}
    rows = []
    for enc in ENCODINGS:
        t = results[enc]
        rows.append([enc, f"{np.mean(t):.2f} ± {np.std(t):.2f}", f"{np.mean(train[enc]):.2f}",
                     paper[enc], statistics.median(sps[enc])])
    means = [np.mean(results[e]) for e in ENCODINGS]
    order = "reproduced" if means[0] < means[1] <= means[2] else "NOT reproduced"
    return (
        f"## 2. Encodings on the FFN protocol ({size}² crops of {', '.join(images)}; train on every other "
        f"pixel, test on the rest; ReLU 3x256, sigmoid, Adam, {steps} full-batch steps)\n\n"
        + markdown_table(["encoding", "test PSNR (mean ± std)", "train PSNR", "paper (DIV2K natural)", "s/step"], rows)
        + f"\n\nOrdering none < PE <= Gaussian: {order}.\n"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["all", "siren", "seeds", "ffn"], default="all")
    p.add_argument("--siren-steps", type=int, default=500)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds part: seeds for each side")
    p.add_argument("--prep", choices=["skimage", "pil"], default="skimage", help="seeds part: the 256² file")
    p.add_argument("--impls", nargs="+", choices=list(SEED_IMPLS), default=list(SEED_IMPLS),
                   help="seeds part: which implementations to run")
    p.add_argument("--cache", type=Path, default=RESULTS / "bench_image_seeds.json",
                   help="seeds part: rows measured so far (JSON), reused and extended")
    p.add_argument("--size", type=int, default=512, help="FFN part: image side")
    p.add_argument("--steps", type=int, default=2000, help="FFN part: steps")
    p.add_argument("--images", nargs="+", default=NATURAL)
    p.add_argument("--out", type=Path, default=RESULTS / "bench_image.md")
    args = p.parse_args()
    sections = [report_header("bench_image", sys.argv[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        if args.part in ("all", "siren"):
            sections.append(part_siren(Path(tmp), args.siren_steps))
            print(sections[-1], flush=True)
        if args.part in ("all", "seeds"):
            sections.append(part_seeds(Path(tmp), args.siren_steps, args.seeds, args.prep, args.impls, args.cache))
            print(sections[-1], flush=True)
        if args.part in ("all", "ffn"):
            sections.append(part_ffn(Path(tmp), args.size, args.steps, args.images))
            print(sections[-1], flush=True)
    write_report(args.out, sections)


if __name__ == "__main__":
    main()
