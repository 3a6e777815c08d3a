"""Shapes for SDF fitting: loading meshes and oriented point clouds,
normalising them into [-1, 1]^3, surface samples, and robust ground truth.

Inside/outside comes from generalized winding numbers (libigl's fast
winding number), so open meshes (the Stanford bunny), meshes with gaps (the
teapot) and loose parts (suzanne) get a sensible inside; distances come from
an exact point-to-triangle query over an AABB tree.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import igl
import numpy as np
import trimesh

from inr.errors import InrError, existing_file

MESH_SUFFIXES = (".obj", ".ply", ".stl", ".off", ".glb", ".gltf")
POINT_SUFFIXES = (".xyz",)


@dataclass
class Shape:
    """A surface in its normalised frame: ``x_norm = (x - center) * scale``."""

    source: str
    vertices: Optional[np.ndarray]  # (V, 3) float64, normalised; None for a point cloud
    faces: Optional[np.ndarray]  # (F, 3) int64
    points: Optional[np.ndarray]  # (P, 3) oriented point cloud, normalised; None for a mesh
    normals: Optional[np.ndarray]  # (P, 3) unit normals of ``points``
    center: np.ndarray  # (3,) in input coordinates
    scale: float

    @property
    def is_mesh(self) -> bool:
        return self.faces is not None

    def mesh(self) -> trimesh.Trimesh:
        return trimesh.Trimesh(self.vertices, self.faces, process=False)


def _read_xyz(path: Path):
    try:
        a = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise InrError(f"{path}: cannot read as an .xyz point cloud ({str(err)[:80]})") from None
    if a.shape[1] != 6:
        raise InrError(f"{path}: an .xyz point cloud needs 6 columns (x y z nx ny nz), found {a.shape[1]}")
    return a[:, :3], a[:, 3:]


def _ply_normals(cloud: trimesh.PointCloud, path: Path):
    raw = cloud.metadata.get("_ply_raw", {}).get("vertex", {}).get("data")
    names = getattr(getattr(raw, "dtype", None), "names", None) or ()
    if not {"nx", "ny", "nz"} <= set(names):
        raise InrError(f"{path}: a point cloud needs normals (nx, ny, nz) to fit an SDF")
    return np.stack([raw["nx"], raw["ny"], raw["nz"]], axis=1).astype(np.float64)


def _read(path: Path):
    """``(vertices, faces, points, normals)`` in input coordinates."""
    if path.suffix.lower() in POINT_SUFFIXES:
        points, normals = _read_xyz(path)
        return None, None, points, normals
    try:
        loaded = trimesh.load(path, force=None, process=False)
    except Exception as err:  # trimesh raises many types for unreadable files
        raise InrError(f"{path}: cannot read as a mesh ({type(err).__name__}: {str(err)[:80]})") from None
    if isinstance(loaded, trimesh.Scene):
        if not loaded.geometry:
            raise InrError(f"{path}: the file holds no geometry")
        loaded = loaded.dump(concatenate=True)
    if isinstance(loaded, trimesh.PointCloud):
        return None, None, np.asarray(loaded.vertices, np.float64), _ply_normals(loaded, path)
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise InrError(f"{path}: holds no triangles (an SDF needs a mesh or a point cloud with normals)")
    return np.asarray(loaded.vertices, np.float64), np.asarray(loaded.faces, np.int64), None, None


def load_shape(path, margin: float = 0.1) -> Shape:
    """Read a mesh or an oriented point cloud and fit it into
    ``[-(1 - margin), 1 - margin]^3`` keeping its aspect ratio."""
    path = existing_file(path)
    if path.suffix.lower() not in MESH_SUFFIXES + POINT_SUFFIXES:
        raise InrError(f"{path}: unsupported shape file (use {', '.join(MESH_SUFFIXES + POINT_SUFFIXES)})")
    if not 0 <= margin < 1:
        raise InrError(f"data.margin must be in [0, 1) (got {margin})")
    vertices, faces, points, normals = _read(path)
    xyz = vertices if vertices is not None else points
    if len(xyz) < 4 or not np.all(np.isfinite(xyz)):
        raise InrError(f"{path}: needs at least 4 finite points (found {len(xyz)})")
    if faces is not None and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise InrError(f"{path}: faces index vertices that do not exist")
    if faces is not None and trimesh.Trimesh(vertices, faces, process=False).area <= 0:
        raise InrError(f"{path}: every triangle is degenerate (zero area)")
    lo, hi = xyz.min(0), xyz.max(0)
    extent = hi - lo
    if extent.min() <= 1e-6 * extent.max():
        axis = "xyz"[int(np.argmin(extent))]
        raise InrError(f"{path}: the shape is flat (no extent along {axis}); an SDF needs a 3-D shape")
    center = (lo + hi) / 2
    scale = (1.0 - margin) / (extent.max() / 2)
    if normals is not None:
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        if np.any(length == 0) or not np.all(np.isfinite(length)):
            raise InrError(f"{path}: some point normals are zero or not finite")
        normals = normals / length
    norm = (lambda a: None if a is None else (a - center) * scale)
    return Shape(str(path), norm(vertices), faces, norm(points), normals, center, float(scale))


def sample_surface(shape: Shape, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` surface points with unit normals: area-uniform on a mesh (face
    normals), a random subset (with replacement) of a point cloud."""
    rng = np.random.default_rng(seed)
    if not shape.is_mesh:
        idx = rng.integers(0, len(shape.points), n)
        return shape.points[idx], shape.normals[idx]
    mesh = shape.mesh()
    points, face = trimesh.sample.sample_surface(mesh, n, seed=int(rng.integers(2**31)))
    normals = mesh.face_normals[face]
    return np.asarray(points, np.float64), np.asarray(normals, np.float64)


def _point_areas(points: np.ndarray) -> np.ndarray:
    """Area each point of a cloud stands for, from the spacing to its neighbours."""
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(points).query(points, k=min(9, len(points)))
    r = np.mean(dist[:, 1:], axis=1)
    return np.pi * r**2 / 4


def winding_number(shape: Shape, query: np.ndarray) -> np.ndarray:
    """Generalized winding number at ``query`` (about 1 inside, 0 outside,
    and a graceful fraction near holes)."""
    q = np.ascontiguousarray(query, np.float64)
    if shape.is_mesh:
        return igl.fast_winding_number(shape.vertices, shape.faces, q)
    return igl.fast_winding_number(shape.points, shape.normals, _point_areas(shape.points), q)


def inside(shape: Shape, query: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    return np.concatenate([winding_number(shape, query[i:i + chunk]) > 0.5 for i in range(0, len(query), chunk)])


def signed_distance(shape: Shape, query: np.ndarray) -> np.ndarray:
    """Distance to the surface, negative inside (winding-number sign)."""
    q = np.ascontiguousarray(query, np.float64)
    if shape.is_mesh:
        dist = np.sqrt(igl.point_mesh_squared_distance(q, shape.vertices, shape.faces)[0])
    else:
        from scipy.spatial import cKDTree

        dist = cKDTree(shape.points).query(q)[0]
    return np.where(inside(shape, q), -dist, dist)
