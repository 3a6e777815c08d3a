"""Signed distance fields: points of [-1, 1]^3 -> signed distance (or occupancy logit)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import imageio.v3 as iio
import jax
import jax.numpy as jnp
import numpy as np

from inr.atomic import atomic_path
from inr.errors import InrError
from inr.grid import grid
from inr.modalities.base import MODALITIES, normalization
from inr.modalities.image_io import picture_grid, to_uint8, write_image
from inr.modalities.sdf import shapes
from inr.modalities.sdf.extract import MESH_FORMATS, evaluate_volume, extract_mesh, write_mesh
from inr.modalities.sdf.clouds import chamfer_matrix, field_clouds
from inr.modalities.sdf.losses import LOSSES, SURFACE_VALUE, surface_value
from inr.modalities.sdf.metrics import iou, sample_mesh, surface_metrics
from inr.modalities.sdf.trace import render_view, render_views
from inr.train.samplers import SampleErrors, regression_errors

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")
ANIMATION_SUFFIXES = (".gif",)


@dataclass
class SdfDataConfig:
    loss: str = "sdf"
    """siren (oriented point-cloud loss) | sdf (clamped L1 on ground-truth distances) | occupancy (BCE)"""
    margin: float = 0.1
    """the shape is scaled into [-(1 - margin), 1 - margin]^3, keeping its aspect ratio"""
    surface_points: int = 250000
    """surface samples with normals (the siren loss draws its batches from them)"""
    samples: int = 500000
    """sdf/occupancy: points with ground-truth distances (near the surface and uniform)"""
    near_scales: list[float] = field(default_factory=lambda: [0.05, 0.015])
    """sdf/occupancy: standard deviations of the Gaussian jitter of surface points, one group each"""
    uniform_fraction: float = 0.2
    """sdf/occupancy: fraction of the samples drawn uniformly in the cube"""
    truncation: float = 0.1
    """sdf: distances are clamped to [-truncation, truncation] (DeepSDF)"""
    siren_weights: list[float] = field(default_factory=lambda: [3e3, 1e2, 5e1, 1e2])
    """siren: weights of the surface, normal, eikonal and off-surface terms"""
    eval_points: int = 32768
    """uniform points with inside labels for the IoU logged during training"""
    sample_seed: int = 0
    """seed of every point sampling (training data, metrics)"""
    resolution: int = 256
    """marching-cubes grid of the run's mesh and surface metrics"""
    metric_points: int = 100000
    """surface samples each way for Chamfer, normal consistency and F-score"""
    iou_resolution: int = 128
    """grid side for the volumetric IoU"""
    preview: int = 256
    """side of the run's shaded render.png; 0 = none"""


class SdfModality:
    name = "sdf"
    data_config = SdfDataConfig
    in_dim = 3
    extensions = shapes.MESH_SUFFIXES + shapes.POINT_SUFFIXES
    metric = ("iou", "IoU (uniform points)")
    render_options = ("kind", "size", "resolution", "original_scale", "azimuth", "elevation")
    progressive_encodings = False  # no (coords, targets) pairs for SAPE's per-sample errors
    field_suffix = ".ply"
    defaults = {"fit": "sdf.yaml", "collection": "sdf-collection.yaml"}

    def load(self, path, cfg: SdfDataConfig) -> shapes.Shape:
        LOSSES.get(cfg.loss)
        for name in ("surface_points", "samples", "eval_points", "metric_points", "iou_resolution"):
            if getattr(cfg, name) < 1:
                raise InrError(f"data.{name} must be positive (got {getattr(cfg, name)})")
        problems = [(not 0 <= cfg.uniform_fraction <= 1, f"data.uniform_fraction must be in [0, 1] (got "
                     f"{cfg.uniform_fraction})"),
                    (not cfg.near_scales and cfg.uniform_fraction < 1,
                     "data.near_scales is empty: give at least one scale or set data.uniform_fraction: 1"),
                    (any(s <= 0 for s in cfg.near_scales), f"data.near_scales must be positive (got {cfg.near_scales})"),
                    (cfg.resolution < 8, f"data.resolution must be at least 8 (got {cfg.resolution})"),
                    (len(cfg.siren_weights) != 4, f"data.siren_weights needs 4 weights (got {cfg.siren_weights})")]
        for bad, message in problems:
            if bad:
                raise InrError(message)
        return shapes.load_shape(path, cfg.margin)

    def out_dim(self, signal) -> int:
        return 1

    def size(self, signal) -> tuple:
        return ()  # every shape is sampled to the same point counts

    def _supervised(self, shape, cfg, rng) -> dict:
        n_uniform = int(round(cfg.samples * cfg.uniform_fraction))
        groups = np.array_split(np.arange(cfg.samples - n_uniform), max(len(cfg.near_scales), 1))
        near = [shapes.sample_surface(shape, len(g), cfg.sample_seed + 1 + i)[0] + rng.normal(0, s, (len(g), 3))
                for i, (g, s) in enumerate(zip(groups, cfg.near_scales))]
        coords = np.concatenate(near + [rng.uniform(-1, 1, (n_uniform, 3))])
        return {"coords": coords, "sdf": shapes.signed_distance(shape, coords)}

    def training_data(self, signal, cfg: SdfDataConfig) -> dict:
        rng = np.random.default_rng(cfg.sample_seed)
        eval_coords = rng.uniform(-1, 1, (cfg.eval_points, 3))
        data = {"eval_coords": eval_coords, "eval_inside": shapes.inside(signal, eval_coords)}
        if cfg.loss == "siren":
            data["surface"], data["normals"] = shapes.sample_surface(signal, cfg.surface_points, cfg.sample_seed)
        else:
            data.update(self._supervised(signal, cfg, rng))
        return {k: jnp.asarray(v if v.dtype == bool else v.astype(np.float32)) for k, v in data.items()}

    def loss(self, apply, cfg: SdfDataConfig, train_cfg):
        if train_cfg.batch_size <= 0:
            raise InrError("train.batch_size must be positive for an SDF (points drawn per step)")
        return LOSSES.get(cfg.loss)(apply, cfg, train_cfg.batch_size)

    def sample_errors(self, apply, cfg: SdfDataConfig, signal):
        """The fixed points of the sdf and occupancy losses, by the error of
        the distance, or of the inside probability against the label (the
        siren loss draws fresh points every step: None)."""
        if cfg.loss == "siren":
            return None
        if cfg.loss == "sdf":
            return regression_errors(apply, "coords", "sdf")
        return SampleErrors(("coords", "sdf"), lambda params, data: jax.nn.sigmoid(apply(params, data["coords"])),
                            lambda data: (data["sdf"] < 0).astype(jnp.float32).reshape(-1, 1))

    def sample_count(self, signal) -> int:
        return len(signal.vertices if signal.is_mesh else signal.points)

    def score(self, apply, cfg: SdfDataConfig):
        """Pure ``score(params, data) -> {"iou": ...}``: IoU of the inside sets on uniform points."""
        value = surface_value(apply, cfg.loss)

        def score(params, data):
            pred = value(params, data["eval_coords"])[:, 0] < 0
            true = data["eval_inside"]
            union = jnp.sum(pred | true)  # both empty counts as a perfect match, as in metrics.iou
            return {"iou": jnp.where(union == 0, 1.0, jnp.sum(pred & true) / jnp.maximum(union, 1))}

        return score

    def metadata(self, signal, cfg: SdfDataConfig) -> dict:
        return {
            "modality": self.name,
            "normalization": {"center": signal.center.tolist(), "scale": signal.scale},
            "signal": {"source": signal.source, "kind": "mesh" if signal.is_mesh else "points",
                       "count": len(signal.faces if signal.is_mesh else signal.points)},
            "surface": {"loss": cfg.loss, "distance": SURFACE_VALUE[cfg.loss] == 1.0,
                        "inside": "negative" if cfg.loss != "occupancy" else "positive logit"},
        }

    def _reference(self, shape, n, seed):
        if shape.is_mesh:
            return sample_mesh(shape.mesh(), n, seed)
        idx = np.random.default_rng(seed).choice(len(shape.points), min(n, len(shape.points)), replace=False)
        return shape.points[idx], shape.normals[idx]

    def evaluate(self, value, params, shape, cfg: SdfDataConfig, mesh) -> dict:
        """Occupancy-Networks metrics of ``mesh`` (and the field) against ``shape``."""
        seed = cfg.sample_seed + 100
        ref = self._reference(shape, cfg.metric_points, seed)
        ref2 = self._reference(shape, cfg.metric_points, seed + 1)
        lo, hi = ref[0].min(0), ref[0].max(0)
        threshold = 0.01 * float(np.linalg.norm(hi - lo))
        floor = surface_metrics(*ref2, *ref, threshold)
        out = {"fscore_threshold": threshold, "chamfer_l1_floor": floor["chamfer_l1"]}
        if len(mesh.faces) == 0:
            out.update({"chamfer_l1": None, "chamfer_l2": None, "normal_consistency": None, "fscore": None})
        else:
            out.update(surface_metrics(*sample_mesh(mesh, cfg.metric_points, seed + 2), *ref, threshold))
        n = cfg.iou_resolution
        true = shapes.inside(shape, grid((n, n, n)).reshape(-1, 3))
        pred = evaluate_volume(value, params, n).reshape(-1) < 0
        out["iou"] = iou(pred, true)
        return out

    def finish(self, run_dir, apply, params, signal, cfg: SdfDataConfig) -> dict:
        value = surface_value(apply, cfg.loss)
        mesh = extract_mesh(value, params, cfg.resolution, SURFACE_VALUE[cfg.loss] == 1.0)
        write_mesh(mesh, Path(run_dir) / "mesh.ply")
        return {**self.evaluate(value, params, signal, cfg, mesh), "vertices": len(mesh.vertices),
                "faces": len(mesh.faces)}

    def figures(self, run_dir, apply, params, signal, cfg: SdfDataConfig) -> list:
        if cfg.preview <= 0:
            return []
        value = surface_value(apply, cfg.loss)
        size = (cfg.preview,) * 2
        return [("render.png", lambda: write_image(Path(run_dir) / "render.png", render_view(
            value, params, size, 30.0, 20.0, SURFACE_VALUE[cfg.loss] == 1.0)))]

    def _kind(self, out: Path, kind):
        suffix = out.suffix.lower()
        by_suffix = ("mesh" if suffix in MESH_FORMATS else "image" if suffix in PICTURE_SUFFIXES
                     else "turntable" if suffix in ANIMATION_SUFFIXES else None)
        if by_suffix is None or (kind is not None and kind != by_suffix):
            wanted = {"mesh": MESH_FORMATS, "image": PICTURE_SUFFIXES, "turntable": ANIMATION_SUFFIXES}
            options = ", ".join(wanted[kind]) if kind else ", ".join(sum(map(list, wanted.values()), []))
            raise InrError(f"{out}: unsupported suffix for {kind or 'an SDF output'} (use {options})")
        return by_suffix

    def render(self, apply, params, meta: dict, out, kind=None, size=None, resolution=None,
               original_scale=None, azimuth=None, elevation=None) -> None:
        out = Path(out)
        kind = self._kind(out, kind)
        surface = meta["surface"]
        value = surface_value(apply, surface["loss"])
        azimuth = 30.0 if azimuth is None else azimuth
        elevation = 20.0 if elevation is None else elevation
        if kind == "mesh":
            mesh = extract_mesh(value, params, resolution or 256, surface["distance"])
            if original_scale:
                norm = normalization(meta)
                mesh.vertices = mesh.vertices / norm["scale"] + np.asarray(norm["center"])
            write_mesh(mesh, out)
        elif kind == "image":
            write_image(out, render_view(value, params, size or (512, 512), azimuth, elevation, surface["distance"]))
        else:
            views = [(azimuth + a, elevation) for a in np.arange(0, 360, 10)]
            frames = to_uint8(render_views(value, params, size or (256, 256), views, surface["distance"]))
            with atomic_path(out) as tmp:
                iio.imwrite(tmp, frames, extension=".gif", duration=80, loop=0)


    def render_many(self, apply, params_list, meta: dict, out, size=None, columns: int = 0) -> None:
        """Shaded pictures of several fields in one grid (default 128 x 128 each)."""
        value = surface_value(apply, meta["surface"]["loss"])
        tiles = [render_view(value, p, size or (128, 128), 30.0, 20.0, meta["surface"]["distance"])
                 for p in params_list]
        write_image(out, picture_grid(tiles, columns))

    def from_array(self, array, source: str, cfg):
        raise InrError(f"{source}: IDX files hold images; the sdf modality cannot read them")

    classifiable = False  # clouds are unordered point sets

    def comparable(self, field, weights, meta: dict) -> np.ndarray:
        """HyperDiffusion's 3-D items: normalised 2,048-point clouds of each field's surface."""
        return field_clouds(field, weights, meta)

    def distance(self, a, b) -> np.ndarray:
        return chamfer_matrix(a, b)

    def describe(self, clouds) -> dict:
        return {"empty_fraction": float(np.mean(np.all(clouds == 0, axis=(1, 2))))}


MODALITIES.register("sdf", SdfModality())
