"""Multilinear interpolation of values stored on a dense grid over [-1, 1]^d."""
from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np


def grid_sample(grid, x, align_corners: bool = True):
    """Values of ``grid`` (res_1, ..., res_d, *channels) at points ``x`` (N, d).

    With ``align_corners`` the grid's vertices sit at the domain's corners;
    without, they sit at the centres of res^d equal cells. Points beyond the
    outermost vertices take the border value, like
    ``grid_sample(padding_mode="border")``.
    """
    d = x.shape[-1]
    res = jnp.asarray(grid.shape[:d], jnp.float32)
    if align_corners:
        pos = (x + 1.0) * 0.5 * (res - 1.0)
    else:
        pos = (x + 1.0) * 0.5 * res - 0.5
    pos = jnp.clip(pos, 0.0, res - 1.0)
    base = jnp.clip(jnp.floor(pos), 0.0, jnp.maximum(res - 2.0, 0.0))
    frac = pos - base
    base = base.astype(jnp.int32)
    out = 0.0
    for corner in itertools.product((0, 1), repeat=d):
        c = np.asarray(corner)
        idx = tuple(jnp.minimum(base[:, i] + c[i], grid.shape[i] - 1) for i in range(d))
        w = jnp.prod(jnp.where(c == 1, frac, 1.0 - frac), axis=-1)
        vals = grid[idx]
        out = out + vals * w.reshape(w.shape + (1,) * (vals.ndim - 1))
    return out
