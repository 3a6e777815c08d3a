"""Multilinear interpolation of values stored on a dense grid over [-1, 1]^d."""
from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np


def cell_corners(x, shape, align_corners: bool):
    """The 2^d grid vertices around each point of ``x`` (N, d) on a grid of
    ``shape`` and their multilinear weights: ``[(index tuple, weight (N,))]``.

    With ``align_corners`` the grid's vertices sit at the domain's corners;
    without, they sit at the centres of equal cells. Points beyond the
    outermost vertices take the border vertex's value.
    """
    d = x.shape[-1]
    res = jnp.asarray(shape[:d], jnp.float32)
    if align_corners:
        pos = (x + 1.0) * 0.5 * (res - 1.0)
    else:
        pos = (x + 1.0) * 0.5 * res - 0.5
    pos = jnp.clip(pos, 0.0, res - 1.0)
    base = jnp.clip(jnp.floor(pos), 0.0, jnp.maximum(res - 2.0, 0.0))
    frac = pos - base
    base = base.astype(jnp.int32)
    out = []
    for corner in itertools.product((0, 1), repeat=d):
        c = np.asarray(corner)
        idx = tuple(jnp.minimum(base[:, i] + c[i], shape[i] - 1) for i in range(d))
        out.append((idx, jnp.prod(jnp.where(c == 1, frac, 1.0 - frac), axis=-1)))
    return out


def grid_sample(grid, x, align_corners: bool = True):
    """Values of ``grid`` (res_1, ..., res_d, *channels) at points ``x`` (N, d),
    like ``grid_sample(padding_mode="border")``."""
    out = 0.0
    for idx, w in cell_corners(x, grid.shape, align_corners):
        vals = grid[idx]
        out = out + vals * w.reshape(w.shape + (1,) * (vals.ndim - 1))
    return out
