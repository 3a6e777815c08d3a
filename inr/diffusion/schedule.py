"""DDPM noise schedule, forward noising and the x0-parameterised reverse steps.

Timesteps are 0..T-1 with ``abar[t] = prod_{s <= t} (1 - beta_s)``; the
network predicts x0, and a reverse step uses the posterior
q(x_{t-1} | x_t, x0) (DDPM) or the deterministic DDIM update (eta = 0).
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np


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


def q_sample(s: Schedule, x0, t, noise):
    """A draw of x_t given x0: ``sqrt(abar_t) x0 + sqrt(1 - abar_t) noise``; t (B,)."""
    return jnp.sqrt(s.abar_at(t))[:, None] * x0 + jnp.sqrt(s.one_minus_abar_at(t))[:, None] * noise


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
