"""Why a weight diffusion model samples well or badly.

How much a trained denoiser knows beyond a Gaussian: per timestep, the x0
error of the network against that of the best linear denoiser, the posterior
mean under a Gaussian fitted to the training weights (a Wiener filter). A
network no better than it at any t samples about as well as the Gaussian
baseline. Both work on standardized weights, the space the network sees.

How learnable the collection is at all: whether fields whose signals look
alike also have alike weights (:func:`neighbour_predictability`)."""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from inr.diffusion.schedule import Schedule, q_sample
from inr.diffusion.standardize import principal_axes


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


def neighbour_predictability(train_x: np.ndarray, eval_x: np.ndarray, d_eval_train: np.ndarray,
                             ks=(1, 5, 20)) -> list[dict]:
    """R^2 of predicting each held-out field's standardized weights ``eval_x``
    by the mean weights of its k nearest training fields *in signal space*
    (``d_eval_train``: decoded-item distances, as the evaluation measures
    them), against predicting the training mean. Near 1, the weights are a
    smooth function of the signal, and a denoiser can learn their distribution
    from few fields; at or below 0, signals that look alike have unrelated
    weights, and it can only memorise the training fields or fall back to
    their mean and covariance."""
    train_x, eval_x = np.asarray(train_x, np.float64), np.asarray(eval_x, np.float64)
    order = np.argsort(d_eval_train, axis=1)
    spread = np.mean((eval_x - train_x.mean(0)) ** 2)
    return [{"k": int(k), "r2": float(1 - np.mean((train_x[order[:, :k]].mean(1) - eval_x) ** 2) / spread)}
            for k in ks]
