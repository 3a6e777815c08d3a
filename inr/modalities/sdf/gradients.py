"""Spatial gradients of a field evaluated at many independent points."""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp


def value_and_gradient(value: Callable, params, x):
    """Surface values ``(N,)`` of ``value(params, x) -> (N, 1)`` and their
    gradients in x ``(N, 3)``, in one backward pass: the points do not
    interact, so the gradient of the sum is each point's own gradient."""
    f, pullback = jax.vjp(lambda pts: value(params, pts)[:, 0], x)
    (g,) = pullback(jnp.ones_like(f))
    return f, g
