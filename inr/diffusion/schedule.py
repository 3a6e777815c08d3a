"""DDPM noise schedule, forward noising, what the network predicts, and the
x0-parameterised reverse steps.

Timesteps are 0..T-1 with ``abar[t] = prod_{s <= t} (1 - beta_s)``; the
network predicts x0 (HyperDiffusion's choice) or v (Salimans & Ho 2022),
either is turned into x0, and a reverse step uses the posterior
q(x_{t-1} | x_t, x0) (DDPM) or the deterministic DDIM update (eta = 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from inr.registry import Registry


@dataclass(frozen=True)
class Schedule:
    betas: jnp.ndarray  # (T,)
    abar: jnp.ndarray  # (T,) cumulative product of 1 - beta
    one_minus_abar: jnp.ndarray  # (T,) 1 - abar, computed without cancellation

    @property
    def steps(self) -> int:
        return int(self.betas.shape[0])

    def abar_at(self, t):
        """``abar[t]``, and 1 for t = -1 (no noise)."""
        return jnp.where(t >= 0, self.abar[jnp.maximum(t, 0)], 1.0)

    def one_minus_abar_at(self, t):
        return jnp.where(t >= 0, self.one_minus_abar[jnp.maximum(t, 0)], 0.0)


def linear_schedule(steps: int = 500, beta_start: float = 1e-4, beta_end: float = 2e-2) -> Schedule:
    betas = np.linspace(beta_start, beta_end, steps, dtype=np.float64)
    log_abar = np.cumsum(np.log1p(-betas))  # float64: 1 - abar near t = 0 is tiny
    return Schedule(*(jnp.asarray(a, jnp.float32) for a in (betas, np.exp(log_abar), -np.expm1(log_abar))))


def _sqrt_abar(s: Schedule, t):
    """``sqrt(abar_t)`` and ``sqrt(1 - abar_t)`` as ``(B, 1)`` columns; t (B,)."""
    return jnp.sqrt(s.abar_at(t))[:, None], jnp.sqrt(s.one_minus_abar_at(t))[:, None]


def q_sample(s: Schedule, x0, t, noise):
    """A draw of x_t given x0: ``sqrt(abar_t) x0 + sqrt(1 - abar_t) noise``; t (B,)."""
    a, r = _sqrt_abar(s, t)
    return a * x0 + r * noise


@dataclass(frozen=True)
class Prediction:
    """What the denoiser outputs: its training target, and how x0 follows from it."""
    target: Callable  # (schedule, x0, t, noise) -> the output the loss asks for
    to_x0: Callable  # (schedule, output, x_t, t) -> x0


def _v_target(s: Schedule, x0, t, noise):
    a, r = _sqrt_abar(s, t)
    return a * noise - r * x0


def _x0_from_v(s: Schedule, v, xt, t):
    a, r = _sqrt_abar(s, t)
    return a * xt - r * v


PREDICTIONS: Registry = Registry("prediction")
PREDICTIONS.register("x0", Prediction(lambda s, x0, t, noise: x0, lambda s, out, xt, t: out))
# v = sqrt(abar) noise - sqrt(1 - abar) x0, so x0 = sqrt(abar) x_t - sqrt(1 - abar) v: near t = 0 the
# network's output barely touches x0, which then passes x_t through instead of re-deriving it.
PREDICTIONS.register("v", Prediction(_v_target, _x0_from_v))


def x0_predictor(apply: Callable, s: Schedule, prediction: str) -> Callable:
    """``apply(params, x_t, t)`` of a denoiser trained for ``prediction`` -> the same returning x0."""
    to_x0 = PREDICTIONS.get(prediction).to_x0
    return lambda params, xt, t: to_x0(s, apply(params, xt, t), xt, t)


def posterior(s: Schedule, x0, xt, t):
    """Mean and variance of q(x_{t-1} | x_t, x0) (Ho et al. 2020, eq. 7); t (B,)."""
    a_prev = s.abar_at(t - 1)[:, None]
    rest, rest_prev = s.one_minus_abar_at(t)[:, None], s.one_minus_abar_at(t - 1)[:, None]
    beta = s.betas[t][:, None]
    mean = (jnp.sqrt(a_prev) * beta / rest) * x0 + (jnp.sqrt(1 - beta) * rest_prev / rest) * xt
    return mean, beta * rest_prev / rest


def ddpm_step(s: Schedule, x0, xt, t, key):
    """x_{t-1} from the predicted x0 (no noise added at t = 0)."""
    mean, var = posterior(s, x0, xt, t)
    noise = jax.random.normal(key, xt.shape)
    return mean + jnp.where((t > 0)[:, None], jnp.sqrt(var), 0.0) * noise


def ddim_step(s: Schedule, x0, xt, t, t_prev):
    """Deterministic DDIM (eta = 0) from t to t_prev (< t; -1 = the end)."""
    a, a_prev = s.abar_at(t)[:, None], s.abar_at(t_prev)[:, None]
    eps = (xt - jnp.sqrt(a) * x0) / jnp.sqrt(s.one_minus_abar_at(t))[:, None]
    return jnp.sqrt(a_prev) * x0 + jnp.sqrt(s.one_minus_abar_at(t_prev))[:, None] * eps
