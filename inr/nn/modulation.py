"""Coordinate-dependent modulation of hidden layers.

A modulation builds ``modulate(i, h) -> h`` for given params and coordinates;
the MLP applies it to hidden layer i's pre-activation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp

from inr.nn.interp import grid_sample
from inr.registry import Registry


@dataclass(frozen=True)
class Modulation:
    init: Callable | None  # (key) -> params, or None
    make: Callable  # (params, coords) -> modulate(i, h) | None


MODULATIONS: Registry = Registry("modulation")


@MODULATIONS.register("none")
def _none(n_hidden: int, in_dim: int, resolution: int) -> Modulation:
    return Modulation(None, lambda params, coords: None)


def layer_norm(h, eps: float = 1e-5):
    """Standardize each point's channels (LayerNorm without affine)."""
    return jax.nn.standardize(h, axis=-1, epsilon=eps, algorithm="stable")


@MODULATIONS.register("cam")
def cam(n_hidden: int, in_dim: int, resolution: int) -> Modulation:
    """CAM (Lee et al., ICLR 2024): ``gamma(x) * LN(h) + beta(x)`` per hidden
    layer, gamma and beta scalars read multilinearly (border padding) from a
    learnable res^d grid per layer, initialised to 1 and 0."""
    shape = (n_hidden,) + (resolution,) * in_dim

    def init(key):
        return {"gamma": jnp.ones(shape, jnp.float32), "beta": jnp.zeros(shape, jnp.float32)}

    def make(params, coords):
        # one interpolation for all layers: channels = layers
        gamma = grid_sample(jnp.moveaxis(params["gamma"], 0, -1), coords)  # (N, n_hidden)
        beta = grid_sample(jnp.moveaxis(params["beta"], 0, -1), coords)
        return lambda i, h: gamma[:, i:i + 1] * layer_norm(h) + beta[:, i:i + 1]

    return Modulation(init, make)
