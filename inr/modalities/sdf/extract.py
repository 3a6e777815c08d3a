"""Meshes from a field: a dense grid evaluated slab by slab, then marching cubes."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import trimesh
from skimage.measure import marching_cubes

from inr.atomic import atomic_path
from inr.errors import InrError
from inr.fields.evaluate import evaluate_points
from inr.grid import axis_centers

MESH_FORMATS = {".ply": "ply", ".obj": "obj", ".glb": "glb", ".stl": "stl", ".off": "off"}


def evaluate_volume(value: Callable, params, n: int, chunk: int = 65536) -> np.ndarray:
    """``value(params, coords)`` at the n^3 cell centres of [-1, 1]^3, one
    slab of constant first coordinate at a time, so only the float32 result
    (512 MB at n = 512) is ever held, never an n^3 x 3 coordinate grid."""
    axis = axis_centers(n)
    yz = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    out = np.empty((n, n, n), np.float32)
    for i, x in enumerate(axis):
        coords = np.concatenate([np.full((len(yz), 1), x, np.float32), yz], axis=1)
        out[i] = evaluate_points(value, params, coords, chunk).reshape(n, n)
    return out


def evaluate_near_surface(value: Callable, params, n: int, block: int = 8, slack: float = 2.0) -> np.ndarray:
    """Like :func:`evaluate_volume` for a distance field, evaluating only the
    blocks of ``block^3`` cells whose centre value is within ``slack`` times
    the block's half-diagonal of zero; a far block takes its centre's value,
    which has the right sign everywhere in it. A fitted SDF is only roughly a
    distance, hence the slack. Falls back to the dense grid if ``n`` is not
    a multiple of ``block``."""
    if n % block or n // block < 2:
        return evaluate_volume(value, params, n)
    m = n // block
    centres = evaluate_volume(value, params, m)
    reach = slack * np.sqrt(3.0) * block / n  # half-diagonal of a block in [-1, 1] units, times slack
    out = np.repeat(np.repeat(np.repeat(centres, block, 0), block, 1), block, 2)
    near = np.argwhere(np.abs(centres) < reach)
    if len(near) == 0:
        return out
    axis = axis_centers(n)
    offsets = np.stack(np.meshgrid(*[np.arange(block)] * 3, indexing="ij"), -1).reshape(-1, 3)
    cells = (near[:, None, :] * block + offsets[None]).reshape(-1, 3)
    vals = evaluate_points(value, params, axis[cells], chunk=65536)[:, 0]
    out[cells[:, 0], cells[:, 1], cells[:, 2]] = vals
    return out


def extract_mesh(value: Callable, params, resolution: int, distance: bool = False) -> trimesh.Trimesh:
    """The zero level set of ``value`` (negative inside) in [-1, 1]^3 with
    outward-facing triangles; an empty mesh if the field has no surface.
    ``distance``: the value is a (fitted) distance, so far blocks are skipped."""
    if resolution < 8:
        raise InrError(f"--resolution must be at least 8 (got {resolution})")
    volume = (evaluate_near_surface if distance else evaluate_volume)(value, params, resolution)
    if not np.all(np.isfinite(volume)):
        raise InrError("the field is not finite everywhere; cannot extract a mesh")
    return volume_mesh(volume)


def volume_mesh(volume: np.ndarray) -> trimesh.Trimesh:
    """The zero level set of a finite n^3 volume of values (negative inside) on
    the cell centres of [-1, 1]^3, outward-facing; empty if there is none."""
    if volume.min() >= 0 or volume.max() <= 0:
        return trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), np.int64))
    verts, faces, _, _ = marching_cubes(volume, level=0.0, gradient_direction="descent")
    step = 2.0 / volume.shape[0]
    verts = verts * step - 1.0 + step / 2  # index space -> cell-centre coordinates
    return trimesh.Trimesh(verts, faces, process=False)


def write_mesh(mesh: trimesh.Trimesh, path) -> None:
    path = Path(path)
    kind = MESH_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InrError(f"{path}: unsupported mesh suffix (use {', '.join(MESH_FORMATS)})")
    with atomic_path(path) as tmp:
        data = mesh.export(file_type=kind)
        tmp.write_bytes(data if isinstance(data, bytes) else data.encode())
