"""Shape metrics with the conventions of Occupancy Networks (Mescheder et al. 2019).

Chamfer-L1 is the mean of the two directions' mean Euclidean distances to
the nearest neighbour; Chamfer-L2 the same with squared distances; normal
consistency the mean absolute cosine between a point's normal and its
nearest neighbour's, both ways; the F-score uses a threshold of a fraction
of the reference's bounding-box diagonal. Volumetric IoU compares inside
tests on a grid of cell centres.
"""
from __future__ import annotations

import numpy as np
import trimesh
from scipy.spatial import cKDTree


def _one_way(points, normals, ref_points, ref_normals):
    dist, idx = cKDTree(ref_points).query(points, workers=-1)
    cos = np.abs(np.sum(normals * ref_normals[idx], axis=-1))
    return dist, cos


def surface_metrics(points, normals, ref_points, ref_normals, threshold: float) -> dict:
    """Metrics of the sampled surface ``(points, normals)`` against a reference sampling."""
    d_acc, c_acc = _one_way(points, normals, ref_points, ref_normals)  # prediction -> reference
    d_com, c_com = _one_way(ref_points, ref_normals, points, normals)  # reference -> prediction
    precision, recall = float(np.mean(d_acc < threshold)), float(np.mean(d_com < threshold))
    return {
        "chamfer_l1": float(0.5 * (d_acc.mean() + d_com.mean())),
        "chamfer_l2": float(0.5 * ((d_acc**2).mean() + (d_com**2).mean())),
        "normal_consistency": float(0.5 * (c_acc.mean() + c_com.mean())),
        "fscore": 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall),
        "precision": precision,
        "recall": recall,
    }


def sample_mesh(mesh: trimesh.Trimesh, n: int, seed: int):
    points, face = trimesh.sample.sample_surface(mesh, n, seed=seed)
    return np.asarray(points), np.asarray(mesh.face_normals[face])


def iou(pred_inside: np.ndarray, true_inside: np.ndarray) -> float:
    union = np.logical_or(pred_inside, true_inside).sum()
    return float(np.logical_and(pred_inside, true_inside).sum() / union) if union else 1.0
