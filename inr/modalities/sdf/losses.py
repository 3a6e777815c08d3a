"""SDF training losses, ``loss(params, data, key) -> scalar`` like every loss.

``siren``: SIREN's oriented point-cloud loss (Sitzmann et al. 2020, eq. 6 of
the supplement) on surface points with normals plus uniform points in the
cube. ``sdf``: DeepSDF's clamped L1 against ground-truth distances.
``occupancy``: binary cross-entropy of a logit against inside/outside
(HyperDiffusion). The field's "surface value" is negative inside for all of
them: the distance itself, or minus the occupancy logit.
"""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from inr.modalities.sdf.gradients import value_and_gradient
from inr.registry import Registry

LOSSES: Registry = Registry("SDF loss")


def _pick(data: dict, names, key, n: int) -> list:
    """A random minibatch (with replacement) of rows of the named arrays."""
    idx = jax.random.randint(key, (n,), 0, data[names[0]].shape[0])
    return [data[k][idx] for k in names]


@LOSSES.register("siren")
def siren_loss(apply: Callable, cfg, batch: int) -> Callable:
    w = cfg.siren_weights  # surface, normal, eikonal, off-surface

    def loss(params, data, key):
        k_surf, k_free = jax.random.split(key)
        surface, normals = _pick(data, ("surface", "normals"), k_surf, batch)
        free = jax.random.uniform(k_free, (batch, 3), minval=-1.0, maxval=1.0)
        f_s, g_s = value_and_gradient(apply, params, surface)
        f_u, g_u = value_and_gradient(apply, params, free)
        cos = jnp.sum(g_s * normals, -1) / jnp.maximum(jnp.linalg.norm(g_s, axis=-1), 1e-8)
        grad_norm = jnp.linalg.norm(jnp.concatenate([g_s, g_u]), axis=-1)
        return (w[0] * jnp.mean(jnp.abs(f_s)) + w[1] * jnp.mean(1.0 - cos)
                + w[2] * jnp.mean(jnp.abs(grad_norm - 1.0)) + w[3] * jnp.mean(jnp.exp(-100.0 * jnp.abs(f_u))))

    return loss


@LOSSES.register("sdf")
def clamped_l1_loss(apply: Callable, cfg, batch: int) -> Callable:
    """DeepSDF's ``|clamp(f, d) - clamp(s, d)|``, written so that a prediction
    beyond the band on the wrong side still gets a gradient (the plain clamp
    has none there, and a field pushed out of the band early never returns)."""
    delta = cfg.truncation

    def loss(params, data, key):
        coords, target = _pick(data, ("coords", "sdf"), key, batch)
        pred = apply(params, coords)[:, 0]
        err = jnp.where(target >= delta, jax.nn.relu(delta - pred),
                        jnp.where(target <= -delta, jax.nn.relu(pred + delta), jnp.abs(pred - target)))
        return jnp.mean(err)

    return loss


@LOSSES.register("occupancy")
def occupancy_loss(apply: Callable, cfg, batch: int) -> Callable:
    def loss(params, data, key):
        coords, target = _pick(data, ("coords", "sdf"), key, batch)
        logits = apply(params, coords)[:, 0]
        return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, (target < 0).astype(logits.dtype)))

    return loss


# the field's output -> a value that is negative inside, zero on the surface
SURFACE_VALUE = {"siren": 1.0, "sdf": 1.0, "occupancy": -1.0}


def surface_value(apply, loss: str):
    """The field's output turned into a value that is negative inside."""
    sign = SURFACE_VALUE[loss]
    return apply if sign == 1.0 else (lambda params, x: sign * apply(params, x))
