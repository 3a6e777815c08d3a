"""Regression losses over a signal's samples, full batch or a random minibatch.

A loss has the signature ``loss(params, data, key) -> scalar`` with ``data`` a
dict of arrays whose leading axis indexes samples; it is pure, so a stack of
fields is fitted with ``vmap`` over params and data.
"""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp


def sample_batch(data: dict, key, batch_size: int) -> dict:
    """A random minibatch (with replacement) of every array in ``data``;
    ``batch_size <= 0`` or at least the signal's size keeps the full signal."""
    n = jax.tree_util.tree_leaves(data)[0].shape[0]
    if batch_size <= 0 or batch_size >= n:
        return data
    idx = jax.random.randint(key, (batch_size,), 0, n)
    return jax.tree_util.tree_map(lambda a: a[idx], data)


def mse_loss(apply: Callable, batch_size: int = 0) -> Callable:
    """Mean squared error of ``apply(params, coords)`` against ``targets``."""

    def loss(params, data, key):
        batch = sample_batch(data, key, batch_size)
        pred = apply(params, batch["coords"])
        return jnp.mean((pred - batch["targets"]) ** 2)

    return loss
