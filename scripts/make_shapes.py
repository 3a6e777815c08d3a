"""Generate a seeded family of watertight 3-D shapes (ShapeNet cannot be downloaded here).

    python scripts/make_shapes.py --out shapes --count 300 --seed 0

Two families, alternating: vessels (surfaces of revolution of a random smooth
profile: vases, bottles, bowls, goblets) and tables (a box top on four
cylinder or box legs, or on one central column with a foot, with random
proportions). Every part is a closed surface; a table's parts touch rather
than being boolean-merged, which generalized winding numbers (how `inr fit sdf`
decides inside) treat as their union. Writes OBJ files named
``vessel-0000.obj``, ``table-0001.obj``, ... and ``shapes.json`` with each
shape's family and parameters.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from inr.atomic import atomic_path, write_json  # noqa: E402


def vessel(rng) -> tuple[trimesh.Trimesh, dict]:
    """A surface of revolution about y of a smooth random radius profile."""
    height = rng.uniform(0.8, 2.0)
    knots = rng.uniform(0.15, 0.6, size=rng.integers(3, 6))
    knots[0] = rng.uniform(0.2, 0.5)  # foot
    ys = np.linspace(0, height, 48)
    radius = np.interp(ys, np.linspace(0, height, len(knots)), knots)
    radius = np.convolve(np.pad(radius, 3, mode="edge"), np.ones(7) / 7, mode="valid")  # smooth
    profile = np.concatenate([[[0.0, 0.0]], np.stack([radius, ys], 1), [[0.0, height]]])
    mesh = trimesh.creation.revolve(profile, sections=48)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))  # z-up -> y-up
    return mesh, {"height": float(height), "radius_knots": knots.round(3).tolist()}


def table(rng) -> tuple[trimesh.Trimesh, dict]:
    width, depth = rng.uniform(0.8, 2.0), rng.uniform(0.6, 1.6)
    height, top = rng.uniform(0.5, 1.2), rng.uniform(0.04, 0.12)
    style = rng.choice(["round legs", "square legs", "column"])
    parts = [trimesh.creation.box([width, top, depth],
                                  trimesh.transformations.translation_matrix([0, height - top / 2, 0]))]
    leg = rng.uniform(0.03, 0.08)
    if style == "column":
        parts.append(trimesh.creation.cylinder(radius=2 * leg, height=height - top, sections=24,
                                               transform=_upright(0, (height - top) / 2, 0)))
        parts.append(trimesh.creation.cylinder(radius=min(width, depth) * 0.35, height=0.05, sections=32,
                                               transform=_upright(0, 0.025, 0)))
    else:
        inset = rng.uniform(0.05, 0.2)
        for sx in (-1, 1):
            for sz in (-1, 1):
                x, z = sx * (width / 2 - inset), sz * (depth / 2 - inset)
                if style == "round legs":
                    parts.append(trimesh.creation.cylinder(radius=leg, height=height - top, sections=16,
                                                           transform=_upright(x, (height - top) / 2, z)))
                else:
                    parts.append(trimesh.creation.box(
                        [2 * leg, height - top, 2 * leg],
                        trimesh.transformations.translation_matrix([x, (height - top) / 2, z])))
    params = {"width": width, "depth": depth, "height": height, "top": top, "style": str(style), "leg": leg}
    return trimesh.util.concatenate(parts), {k: (round(v, 3) if isinstance(v, float) else v)
                                             for k, v in params.items()}


def _upright(x, y, z):
    """Transform of a z-axis cylinder to a y-axis one centred at (x, y, z)."""
    return trimesh.transformations.translation_matrix([x, y, z]) @ \
        trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0])


FAMILIES = {"vessel": vessel, "table": table}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--count", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    records = []
    for i in range(args.count):
        family = args.families[i % len(args.families)]
        mesh, params = FAMILIES[family](rng)
        name = f"{family}-{i:04d}.obj"
        with atomic_path(args.out / name) as tmp:
            mesh.export(tmp)
        records.append({"file": name, "family": family, "watertight_parts": bool(
            all(part.is_watertight for part in mesh.split(only_watertight=False))), **params})
    write_json(args.out / "shapes.json", {"seed": args.seed, "shapes": records})
    print(f"wrote {args.count} shapes to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
