"""Standardizing a collection's weights before diffusion, and back after sampling.

Statistics come from the training fields. ``parameter``: a mean and std per
parameter (HyperDiffusion's option). ``tensor``: one per weight or bias tensor,
which keeps a permutation-equivariant denoiser equivariant. ``pca``: beyond
the paper, whitening: the weights are rotated onto their principal axes and
each axis scaled to unit variance, so the data's covariance becomes the
identity and a denoiser's zero residual (``prediction: v``) is already the
best linear (Gaussian) denoiser; the network learns only what is not Gaussian.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from inr.diffusion.tokens import Tokenizer
from inr.registry import Registry


@dataclass
class Standardizer:
    """``forward(w) = ((w - mean) @ basis) / std`` and its inverse; no basis: the identity rotation."""

    mean: np.ndarray  # (P,)
    std: np.ndarray  # (P,)
    basis: np.ndarray | None = None  # (P, P) orthonormal columns: the principal axes

    @classmethod
    def fit(cls, weights: np.ndarray, enabled: bool, by: str = "parameter", tok: Tokenizer | None = None):
        if not enabled:
            p = weights.shape[1]
            return cls(np.zeros(p, np.float32), np.ones(p, np.float32))
        return STANDARDIZE_BY.get(by)(np.asarray(weights, np.float64), tok)

    def forward(self, w):
        x = w - self.mean
        return (x if self.basis is None else x @ self.basis) / self.std

    def inverse(self, x):
        x = x * self.std
        return (x if self.basis is None else x @ self.basis.T) + self.mean

    def arrays(self) -> dict:
        out = {"standardize.mean": self.mean, "standardize.std": self.std}
        return out if self.basis is None else {**out, "standardize.basis": self.basis}

    @classmethod
    def from_arrays(cls, arrays: dict) -> "Standardizer":
        return cls(arrays["standardize.mean"], arrays["standardize.std"], arrays.get("standardize.basis"))


STANDARDIZE_BY: Registry[Callable[[np.ndarray, Tokenizer | None], Standardizer]] = Registry("standardization")


def _f32(*arrays):
    return [np.ascontiguousarray(a, np.float32) for a in arrays]  # safetensors writes C order


@STANDARDIZE_BY.register("parameter")
def per_parameter(w: np.ndarray, tok=None) -> Standardizer:
    return Standardizer(*_f32(w.mean(0), w.std(0) + 1e-8))


@STANDARDIZE_BY.register("tensor")
def per_tensor(w: np.ndarray, tok: Tokenizer) -> Standardizer:
    mean, std = np.zeros(w.shape[1]), np.ones(w.shape[1])
    for o, n in zip(tok.offsets, tok.sizes):
        mean[o:o + n], std[o:o + n] = w[:, o:o + n].mean(), w[:, o:o + n].std() + 1e-8
    return Standardizer(*_f32(mean, std))


def principal_axes(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, variances, axes)`` of the rows of ``w`` (N, P), largest variance first;
    ``axes[:, i]`` is the i-th axis."""
    w = np.asarray(w, np.float64)
    mean = w.mean(0)
    var, axes = np.linalg.eigh(np.cov(w - mean, rowvar=False).reshape(w.shape[1], w.shape[1]))
    order = np.argsort(var)[::-1]
    return mean, np.maximum(var[order], 0.0), axes[:, order]


@STANDARDIZE_BY.register("pca")
def whitened(w: np.ndarray, tok=None) -> Standardizer:
    mean, var, axes = principal_axes(w)  # largest variance first, so tokens cut the axes in that order
    floor = 1e-9 * var.max() + 1e-20  # axes the training fields never vary along (fewer fields than weights)
    return Standardizer(*_f32(mean, np.sqrt(var + floor), axes))
