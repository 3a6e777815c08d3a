"""How much a trained denoiser knows beyond a Gaussian: per timestep, the x0
error of the network against that of the best linear denoiser, the posterior
mean under a Gaussian fitted to the training weights (a Wiener filter). A
network no better than it at any t samples about as well as the Gaussian
baseline. Both work on standardised weights, the space the network sees."""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from inr.diffusion.schedule import Schedule, q_sample
from inr.diffusion.standardise import principal_axes


def gaussian_denoiser(train_x: np.ndarray, sched: Schedule) -> Callable:
    """``apply(params, x_t, t) -> E[x0 | x_t]`` for x0 ~ N(mean, cov) of ``train_x``
    (N, P); ``params`` is unused, so it also runs through the samplers."""
    mean, var, axes = (jnp.asarray(a, jnp.float32) for a in principal_axes(train_x))

    def apply(params, xt, t):
        # on the principal axes: x0 = mean + var sqrt(abar) / (abar var + 1 - abar) (x_t - sqrt(abar) mean)
        a = sched.abar_at(t)[:, None]
        gain = var * jnp.sqrt(a) / (a * var + sched.one_minus_abar_at(t)[:, None])
        return mean + (((xt - jnp.sqrt(a) * mean) @ axes) * gain) @ axes.T

    return apply


def denoising_errors(apply: Callable, params, sched: Schedule, gaussian: Callable, eval_x: np.ndarray,
                     timesteps, seed: int = 0) -> list[dict]:
    """Mean squared x0 error on ``eval_x`` at each timestep, for the network
    (``apply(params, x_t, t) -> x0``) and for ``gaussian``, the training fields'
    :func:`gaussian_denoiser` (built once by the caller, whatever it scores)."""
    net, gauss = jax.jit(apply), jax.jit(gaussian)
    x0 = jnp.asarray(eval_x, jnp.float32)
    rows = []
    for t in timesteps:
        tt = jnp.full((len(x0),), int(t))
        xt = q_sample(sched, x0, tt, jax.random.normal(jax.random.fold_in(jax.random.PRNGKey(seed), int(t)),
                                                          x0.shape))
        rows.append({"t": int(t), "network": float(jnp.mean((net(params, xt, tt) - x0) ** 2)),
                     "gaussian": float(jnp.mean((gauss(None, xt, tt) - x0) ** 2))})
    return rows
