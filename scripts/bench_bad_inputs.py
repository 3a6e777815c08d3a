"""Inputs nobody tuned on, through the CLI with no --config: what each does.

Every case makes its input in a temporary folder (from the bundled assets),
runs one verb with ``--set train.steps=N`` (the default's model, fewer steps)
and records the exit code, the one stderr line of a refused input, the
modality's metric of an accepted one, and whether the output exists only when
the verb succeeded. Writes scripts/results/bench_bad_inputs.md.

    python scripts/bench_bad_inputs.py [--steps 200]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import trimesh
from scipy.io import wavfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, ROOT, markdown_table, report_header, write_report  # noqa: E402

ASSETS = ROOT / "assets"


def _speech(rate):
    r, x = wavfile.read(ASSETS / "counting-1s.wav")
    n = int(len(x) * rate / r)
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x).astype(np.int16)


def make_inputs(tmp: Path) -> list:
    """(case, verb, modality, input path)."""
    cam = iio.imread(ASSETS / "cameraman.png")[::4, ::4]
    cases = []
    for rate in (8000, 96000):
        wavfile.write(tmp / f"speech-{rate}.wav", rate, _speech(rate))
        cases.append((f"speech at {rate // 1000} kHz", "fit", "audio", tmp / f"speech-{rate}.wav"))
    s = _speech(22050)
    wavfile.write(tmp / "stereo.wav", 22050, np.stack([s, s[::-1]], 1))
    cases.append(("stereo WAV, 22.05 kHz", "fit", "audio", tmp / "stereo.wav"))
    iio.imwrite(tmp / "gray16.png", cam.astype(np.uint16) * 257)
    cases.append(("16-bit grayscale PNG", "fit", "image", tmp / "gray16.png"))
    rgba = np.dstack([cam, cam[::-1], cam[:, ::-1], np.full_like(cam, 200)])
    iio.imwrite(tmp / "rgba.png", rgba)
    cases.append(("RGBA PNG", "fit", "image", tmp / "rgba.png"))
    mesh = trimesh.load(ASSETS / "cow.obj", force="mesh")
    np.savetxt(tmp / "points.xyz", mesh.sample(5000))
    cases.append(("point cloud without normals (.xyz, 3 columns)", "fit", "sdf", tmp / "points.xyz"))
    v, f = mesh.vertices, mesh.faces
    degenerate = np.vstack([f, [[f[0, 0], f[0, 0], f[0, 1]], [f[1, 0], f[1, 1], f[1, 1]]]])
    lines = [f"v {a} {b} {c}" for a, b, c in v] + [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in degenerate]
    (tmp / "degenerate.obj").write_text("\n".join(lines) + "\n")
    cases.append(("OBJ with degenerate faces", "fit", "sdf", tmp / "degenerate.obj"))
    for name, images in {
        "rgb": [np.dstack([cam, np.roll(cam, k, 0), np.roll(cam, k, 1)])[:32, :32] for k in range(4)],
        "mixed": [cam[:32, :32], cam[:32, :30]],
        "corrupt": [cam[:32, :32], None],
    }.items():
        folder = tmp / f"folder-{name}"
        folder.mkdir()
        for i, im in enumerate(images):
            if im is None:
                (folder / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
            else:
                iio.imwrite(folder / f"{i}.png", im)
        label = {"rgb": "collection folder of RGB images", "mixed": "collection folder, mixed sizes",
                 "corrupt": "collection folder, one corrupt image"}[name]
        cases.append((label, "fit-many", "image", folder))
    wavfile.write(tmp / "silence.wav", 16000, np.zeros(16000, np.int16))
    cases.append(("silent WAV", "fit", "audio", tmp / "silence.wav"))
    return cases


def run_case(verb, modality, path, out, steps):
    args = ([verb, modality, str(path)] if verb == "fit" else [verb, str(path)]) + [
        "--out", str(out), "--quiet", "--set", f"train.steps={steps}"]
    proc = subprocess.run([sys.executable, "-m", "inr", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    err = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    metrics = {}
    if verb == "fit" and (out / "metrics.json").is_file():
        metrics = json.loads((out / "metrics.json").read_text())
    elif verb == "fit-many" and (out / "metrics.json").is_file():
        metrics = json.loads((out / "metrics.json").read_text())
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return proc.returncode, err, metrics, out.exists(), leftovers


def summary(metrics: dict) -> str:
    for key in ("psnr", "snr", "iou"):
        if key in metrics:
            return f"{key} {metrics[key]:.1f}" if key != "iou" else f"iou {metrics[key]:.3f}"
    for key in ("psnr_mean", "psnr_median"):
        if key in metrics:
            return f"{key} {metrics[key]:.1f}"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, verb, modality, path in make_inputs(tmp):
            out = tmp / "out" / label.replace(" ", "_").replace("/", "_")
            out.parent.mkdir(exist_ok=True)
            rc, err, metrics, exists, leftovers = run_case(verb, modality, path, out, args.steps)
            result = summary(metrics) if rc == 0 else (err[-1] if err else "").replace(str(tmp), "…")
            clean = (exists == (rc == 0)) and not leftovers
            rows.append([label, f"inr {verb}", rc, result.replace("|", "/"), "yes" if clean else "NO"])
            print(rows[-1], flush=True)
    table = markdown_table(["input", "verb (no --config)", "exit", "result (metric, or the one stderr line)",
                            "output all-or-nothing"], rows)
    write_report(RESULTS / "bench_bad_inputs.md", [report_header("bench_bad_inputs", sys.argv[1:]),
                                                     f"{args.steps} training steps of each modality's default.\n",
                                                     table, ""])


if __name__ == "__main__":
    main()
