"""Shapes as point clouds for generative metrics (HyperDiffusion's 3-D
evaluation): each field's surface by marching cubes, 2,048 points sampled on
it, the cloud centred on its bounding box and scaled into the unit sphere;
clouds compared by the Chamfer distance (squared distances, both ways, as in
PointFlow and HyperDiffusion).
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from inr.fields.evaluate import evaluate_points, pad_rows
from inr.fields.io import params_template
from inr.fields.layout import unflatten
from inr.grid import grid
from inr.modalities.sdf.extract import volume_mesh
from inr.modalities.sdf.metrics import sample_mesh
from inr.modalities.sdf.losses import surface_value


def normalise_cloud(points: np.ndarray) -> np.ndarray:
    """Centre on the bounding-box centre and scale into the unit sphere."""
    p = points - (points.min(0) + points.max(0)) / 2
    return p / max(float(np.linalg.norm(p, axis=1).max()), 1e-12)


def field_volumes(field, weights: np.ndarray, meta: dict, resolution: int, fields_per_call: int = 8,
                  chunk: int = 32768):
    """Yield the surface value (negative inside) of each flat weight vector on
    the ``resolution^3`` cell centres of [-1, 1]^3, several fields per call."""
    template = params_template(field)
    value = surface_value(field.apply, meta["surface"]["loss"])
    many = jax.vmap(lambda w, x: value(unflatten(w, template), x)[:, 0], in_axes=(0, None))

    def points_by_fields(ws, x):  # rows are points, so evaluate_points chunks the grid
        return many(ws, x).T

    coords = grid((resolution,) * 3).reshape(-1, 3)
    for s in range(0, len(weights), fields_per_call):
        part = np.asarray(weights[s:s + fields_per_call], np.float32)
        vals = evaluate_points(points_by_fields, pad_rows(part, fields_per_call), coords, chunk).T
        yield from vals[:len(part)].reshape(len(part), resolution, resolution, resolution)


def volume_cloud(volume: np.ndarray, n_points: int, seed: int) -> np.ndarray | None:
    """``n_points`` normalised surface points of the zero level set, or None if there is none."""
    if not np.all(np.isfinite(volume)):
        return None
    mesh = volume_mesh(volume)
    if mesh.area <= 0:
        return None
    return normalise_cloud(sample_mesh(mesh, n_points, seed)[0]).astype(np.float32)


def field_clouds(field, weights: np.ndarray, meta: dict, n_points: int = 2048, resolution: int = 64,
                 seed: int = 0) -> np.ndarray:
    """Normalised clouds ``(N, n_points, 3)`` of each field's surface; all
    zeros for a field with no surface (far from any shape, and countable)."""
    clouds = []
    for i, vol in enumerate(field_volumes(field, weights, meta, resolution)):
        c = volume_cloud(vol, n_points, seed + i)
        clouds.append(np.zeros((n_points, 3), np.float32) if c is None else c)
    return np.stack(clouds)


@partial(jax.jit, static_argnames="batch")
def _chamfer_row(a, bs, batch: int):
    def one(b):
        d = jnp.sum(a**2, 1)[:, None] + jnp.sum(b**2, 1)[None] - 2 * a @ b.T
        d = jnp.maximum(d, 0.0)
        return jnp.mean(jnp.min(d, 1)) + jnp.mean(jnp.min(d, 0))
    return jax.lax.map(one, bs, batch_size=batch)


def chamfer_matrix(a: np.ndarray, b: np.ndarray, batch: int = 8) -> np.ndarray:
    """Chamfer distances between every cloud of ``a`` (n, P, 3) and of ``b`` (m, P, 3)."""
    b = jnp.asarray(b, jnp.float32)
    return np.stack([np.asarray(_chamfer_row(jnp.asarray(x, jnp.float32), b, batch)) for x in a]).astype(np.float64)
