"""Sampling weights from a trained denoiser: ancestral DDPM or DDIM with fewer steps."""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from inr.diffusion.schedule import Schedule, ddim_step, ddpm_step


def ddim_timesteps(total: int, steps: int) -> np.ndarray:
    """``steps`` evenly spaced timesteps from total-1 down to 0."""
    return np.unique(np.linspace(0, total - 1, max(1, min(steps, total))).round().astype(np.int32))[::-1]


def sample(apply: Callable, params, sched: Schedule, key, n: int, size: int, method: str = "ddpm",
           steps: int = 0, batch: int = 256) -> np.ndarray:
    """``n`` standardized weight vectors (n, size). ``method``: ddpm (all T
    steps) or ddim (``steps`` of them, deterministic after the first draw)."""
    if method == "ddpm":
        ts = np.arange(sched.steps - 1, -1, -1, dtype=np.int32)
        prev = ts - 1
    else:
        ts = ddim_timesteps(sched.steps, steps or 50)
        prev = np.append(ts[1:], -1).astype(np.int32)

    @jax.jit
    def run(key, m_shape_x):
        x = jax.random.normal(key, m_shape_x.shape)

        def body(x, item):
            t, t_prev, k = item
            tt = jnp.full((x.shape[0],), t)
            x0 = apply(params, x, tt)
            if method == "ddpm":
                return ddpm_step(sched, x0, x, tt, k), None
            return ddim_step(sched, x0, x, tt, jnp.full((x.shape[0],), t_prev)), None

        keys = jax.random.split(jax.random.fold_in(key, 1), len(ts))
        x, _ = jax.lax.scan(body, x, (jnp.asarray(ts), jnp.asarray(prev), keys))
        return x

    out = []
    for i, s in enumerate(range(0, n, batch)):
        m = min(batch, n - s)
        out.append(np.asarray(run(jax.random.fold_in(key, i), jnp.zeros((batch, size))))[:m])
    return np.concatenate(out)
