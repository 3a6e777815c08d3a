"""SAPE: spatially-adaptive progressive encoding (Hertz et al. 2021).

The input is ``[x, m_1 sin(2 pi b_1 v), m_1 cos(2 pi b_1 v), ...]`` with
random frequencies ``b_k = u_k |N(0, sigma^2)|`` (u_k uniform directions),
sorted by magnitude, v = (x + 1) / 2. A grid of res^d cells each holds how many
frequency blocks are on (``level``) and whether it is frozen. The mask m_k at a
point is the box-blurred cell masks ``[k < level]`` interpolated multilinearly
there. Every ``floor(T / (2 n_blocks))`` steps :func:`update` splats the
per-sample losses into the cells, blurs them, freezes for good the cells below
epsilon and switches on the next block in every other cell.

The level and frozen grids live in the params under ``encoding.state``, which
the optimizer leaves alone, so they are saved, checkpointed and resumed with
the weights.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from inr.nn import draws
from inr.nn.encodings import ENCODINGS, Encoding, SapeEncoding
from inr.nn.interp import cell_corners, grid_sample


def sorted_frequencies(cfg: SapeEncoding, in_dim: int):
    """``b_k = u_k |N(0, sigma^2)|`` sorted by magnitude, shape (n, d)."""
    k_dir, k_mag = jax.random.split(jax.random.PRNGKey(cfg.seed))
    u = draws.normal(k_dir, (cfg.n_features, in_dim), jnp.float32)
    u = u / jnp.linalg.norm(u, axis=-1, keepdims=True)
    mag = jnp.sort(jnp.abs(draws.normal(k_mag, (cfg.n_features,), jnp.float32, scale=cfg.sigma)))
    return u * mag[:, None]


def box_blur(grid, k: int):
    """Mean over a k^d window (edge-replicated) over the first d = grid.ndim - c axes."""
    d = grid.ndim - 1
    pad = k // 2
    padded = jnp.pad(grid, [(pad, pad)] * d + [(0, 0)], mode="edge")
    window = (k,) * d + (1,)
    return jax.lax.reduce_window(padded, 0.0, jax.lax.add, window, (1,) * (d + 1), "VALID") / float(k**d)


def blur_size(cfg: SapeEncoding, in_dim: int) -> int:
    return 3 if cfg.resolution**in_dim <= 100 else 5


def block_masks(levels, n_blocks: int, k: int):
    """Box-blurred per-cell masks ``[block < level]``: (res^d..., n_blocks)."""
    masks = (jnp.arange(n_blocks, dtype=jnp.float32) < levels[..., None]).astype(jnp.float32)
    return box_blur(masks, k)


def splat_mean(values, coords, res: int, d: int):
    """Per-cell weighted mean of ``values`` (N,) splatted multilinearly at
    ``coords`` (N, d); cells no sample reached take their neighbours' mean."""
    total = jnp.zeros((res,) * d)
    weight = jnp.zeros((res,) * d)
    for idx, w in cell_corners(coords, (res,) * d, align_corners=False):
        total = total.at[idx].add(w * values)
        weight = weight.at[idx].add(w)
    visited = weight > 1e-12
    mean = jnp.where(visited, total / jnp.where(visited, weight, 1.0), 0.0)
    # unvisited cells: mean of their visited 3^d neighbours
    nb_sum = box_blur(mean[..., None], 3)[..., 0]
    nb_cnt = box_blur(visited[..., None].astype(jnp.float32), 3)[..., 0]
    fill = jnp.where(nb_cnt > 0, nb_sum / jnp.where(nb_cnt > 0, nb_cnt, 1.0), 0.0)
    return jnp.where(visited, mean, fill)


@ENCODINGS.register("sape")
def sape(cfg: SapeEncoding, in_dim: int) -> Encoding:
    n_blocks = cfg.n_features
    res = cfg.resolution
    k = blur_size(cfg, in_dim)

    def init(key):
        shape = (res,) * in_dim
        return {"state": {"level": jnp.zeros(shape, jnp.float32), "frozen": jnp.zeros(shape, jnp.float32)}}

    def fn(buffers, params, x):
        state = jax.lax.stop_gradient(params["state"])
        mask = grid_sample(block_masks(state["level"], n_blocks, k), x, align_corners=False)  # (N, n_blocks)
        proj = 2.0 * jnp.pi * ((x + 1.0) * 0.5) @ buffers["B"].T
        return jnp.concatenate([x, mask * jnp.sin(proj), mask * jnp.cos(proj)], axis=-1)

    def update(params, coords, errors):
        """One progression step from per-sample errors at ``coords``."""
        state = params["state"]
        cell_err = box_blur(splat_mean(errors, coords, res, in_dim)[..., None], k)[..., 0]
        frozen = jnp.maximum(state["frozen"], (cell_err < cfg.epsilon).astype(jnp.float32))
        level = jnp.where(frozen > 0, state["level"], jnp.minimum(state["level"] + 1.0, float(n_blocks)))
        return {**params, "state": {"level": level, "frozen": frozen}}

    def update_every(total_steps: int) -> int:
        return max(1, total_steps // (2 * n_blocks))

    return Encoding(in_dim + 2 * n_blocks, fn, {"B": sorted_frequencies(cfg, in_dim)}, init=init,
                    update=update, update_every=update_every)
