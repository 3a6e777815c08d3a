"""SDF quality and time per mesh: SIREN's point-cloud loss against the best supervised configuration.

    python scripts/bench_sdf.py                                  # every 3-D mesh, hash; SIREN on two
    python scripts/bench_sdf.py --meshes spot teapot --models hash siren --budget 300

Each model trains until its config's steps or the training budget, then the
run's own metrics (Occupancy Networks conventions, in the [-1, 1]^3 frame)
are read from metrics.json: Chamfer-L1 (with the floor of two independent
100k-point samplings of the input beside it), Chamfer-L2, normal
consistency, F-score at 1% of the bounding-box diagonal and volumetric IoU
on a 128^3 grid. Writes scripts/results/bench_sdf.md and a picture sheet.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench_common import RESULTS, markdown_table, report_header, write_report  # noqa: E402

from inr.runs import run_config  # noqa: E402
from inr.errors import InrError  # noqa: E402
from inr.modalities.sdf.shapes import load_shape  # noqa: E402
from inr.runs import fit_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"iou": 0.97, "normal_consistency": 0.95, "chamfer_l1": 0.006}


def meets(m: dict) -> str:
    ok = (m["iou"] >= TARGETS["iou"] and (m["normal_consistency"] or 0) >= TARGETS["normal_consistency"]
          and m["chamfer_l1"] is not None and m["chamfer_l1"] <= TARGETS["chamfer_l1"])
    return "yes" if ok else "no"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "meshes"))
    ap.add_argument("--meshes", nargs="+", help="mesh names (default: every file in --data)")
    ap.add_argument("--models", nargs="+", default=["hash", "siren"], help="configs in configs/sdf/")
    ap.add_argument("--siren-meshes", nargs="+", default=["spot", "stanford-bunny"],
                    help="meshes SIREN runs on (it needs the whole budget each)")
    ap.add_argument("--budget", type=float, default=300.0, help="training seconds per mesh and model")
    ap.add_argument("--out", default=str(RESULTS / "bench_sdf.md"))
    args = ap.parse_args(argv)

    paths = sorted(Path(args.data).glob("*.obj")) if not args.meshes else [Path(args.data) / f"{m}.obj"
                                                                          for m in args.meshes]
    rows, skipped, pictures = [], [], []
    with tempfile.TemporaryDirectory() as work:
        for path in paths:
            try:
                load_shape(path)
            except InrError as err:
                skipped.append(f"- {path.name}: {str(err).split(': ', 1)[1]}")
                print(skipped[-1], flush=True)
                continue
            for model in args.models:
                if model == "siren" and path.stem not in args.siren_meshes and not args.meshes:
                    continue
                cfg = run_config([ROOT / "configs" / "sdf" / f"{model}.yaml"],
                                      [f"train.max_seconds={args.budget}"],
                                      {"modality": "sdf", "input": str(path)})
                run = Path(work) / f"{path.stem}-{model}"
                t0 = time.perf_counter()
                m = fit_run(cfg, run, overwrite=True, quiet=True)
                wall = time.perf_counter() - t0
                rows.append([path.stem, model, m["param_count"], m["steps"], round(m["wall_seconds"], 1),
                             round(wall, 1), f"{m['iou']:.4f}", f"{m['normal_consistency'] or 0:.4f}",
                             f"{m['chamfer_l1']:.4f} ({m['chamfer_l1_floor']:.4f})" if m["chamfer_l1"] else "—",
                             f"{m['chamfer_l2']:.2e}" if m["chamfer_l2"] else "—",
                             f"{m['fscore'] or 0:.4f}", meets(m)])
                print(" | ".join(str(v) for v in rows[-1]), flush=True)
                pictures.append(iio.imread(run / "render.png")[..., :3])

    header = ["mesh", "model", "params", "steps", "training s", "wall s (all)", "IoU 128³", "normal cons.",
              "Chamfer-L1 (floor)", "Chamfer-L2", "F-score @1%", "meets targets"]
    table = markdown_table(header, rows)
    print(table)
    out = Path(args.out)
    sections = [report_header("bench_sdf", sys.argv[1:] if argv is None else argv),
                f"Training budget {args.budget:.0f} s per mesh and model. Targets: IoU >= {TARGETS['iou']}, "
                f"normal consistency >= {TARGETS['normal_consistency']}, Chamfer-L1 <= {TARGETS['chamfer_l1']} "
                "([-1, 1]^3 frame, shape scaled into [-0.9, 0.9]^3).\n", table]
    if skipped:
        sections += ["\nSkipped (refused by the loader, as a user would see):\n"] + skipped
    if pictures:
        sheet = np.concatenate(pictures, axis=1)
        iio.imwrite(out.with_suffix(".png"), sheet)
        sections.append(f"\n![renders, in table order]({out.with_suffix('.png').name})\n")
    write_report(out, sections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
