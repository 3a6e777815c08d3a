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
import trimesh
from jax.flatten_util import ravel_pytree
from skimage.measure import marching_cubes

from inr.grid import axis_centers
from inr.modalities.sdf.metrics import sample_mesh
from inr.modalities.sdf.modality import surface_value


def normalise_cloud(points: np.ndarray) -> np.ndarray:
    """Centre on the bounding-box centre and scale into the unit sphere."""
    p = points - (points.min(0) + points.max(0)) / 2
    return p / max(float(np.linalg.norm(p, axis=1).max()), 1e-12)


def field_volumes(field, weights: np.ndarray, meta: dict, resolution: int, fields_per_call: int = 8,
                  chunk: int = 32768):
    """Yield the surface value (negative inside) of each flat weight vector on
    the ``resolution^3`` cell centres of [-1, 1]^3, several fields per call."""
    unravel = ravel_pytree(field.init(jax.random.PRNGKey(0)))[1]
    value = surface_value(field.apply, meta["surface"]["loss"])
    many = jax.jit(jax.vmap(lambda w, x: value(unravel(w), x)[:, 0], in_axes=(0, None)))
    axis = axis_centers(resolution)
    coords = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3).astype(np.float32)
    coords = np.concatenate([coords, np.repeat(coords[-1:], -len(coords) % chunk, 0)])
    for s in range(0, len(weights), fields_per_call):
        part = np.asarray(weights[s:s + fields_per_call], np.float32)
        n = len(part)
        part = np.concatenate([part, np.repeat(part[-1:], fields_per_call - n, 0)])
        vals = np.concatenate([np.asarray(many(part, coords[c:c + chunk])) for c in range(0, len(coords), chunk)], 1)
        yield from vals[:n, : resolution**3].reshape(n, resolution, resolution, resolution)


def volume_cloud(volume: np.ndarray, n_points: int, seed: int) -> np.ndarray | None:
    """``n_points`` normalised surface points of the zero level set, or None if there is none."""
    if not np.all(np.isfinite(volume)) or volume.min() >= 0 or volume.max() <= 0:
        return None
    verts, faces, _, _ = marching_cubes(volume, level=0.0)
    mesh = trimesh.Trimesh(verts, faces, process=False)
    if mesh.area <= 0:
        return None
    return normalise_cloud(sample_mesh(mesh, n_points, seed)[0]).astype(np.float32)


def field_clouds(field, weights: np.ndarray, meta: dict, n_points: int = 2048, resolution: int = 64,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Normalised clouds ``(N, n_points, 3)`` of each field's surface, and
    which fields have no surface (their cloud is all zeros: far from any shape)."""
    clouds, empty = [], []
    for i, vol in enumerate(field_volumes(field, weights, meta, resolution)):
        c = volume_cloud(vol, n_points, seed + i)
        empty.append(c is None)
        clouds.append(np.zeros((n_points, 3), np.float32) if c is None else c)
    return np.stack(clouds), np.asarray(empty)


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
