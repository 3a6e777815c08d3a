"""Pointwise activations, each ``act(z, scale) -> y``.

``z`` is the pre-activation ``W x + b``; ``scale`` is the layer's frequency or
width parameter (omega0 for sines); activations without one ignore it.
"""
from __future__ import annotations

import jax.numpy as jnp

from inr.nn import fastmath
from inr.registry import Registry

ACTIVATIONS: Registry = Registry("activation")


@ACTIVATIONS.register("relu")
def relu(z, scale):
    return jnp.maximum(z, 0.0)


@ACTIVATIONS.register("sine")
def sine(z, scale):
    """SIREN: sin(omega0 * z), with the fast polynomial sine."""
    return fastmath.sin(scale * z)


@ACTIVATIONS.register("sine_exact")
def sine_exact(z, scale):
    """SIREN with XLA's own sine (reference for the fast kernel)."""
    return jnp.sin(scale * z)


OUTPUT_ACTIVATIONS: Registry = Registry("output activation")
OUTPUT_ACTIVATIONS.register("identity", lambda y: y)
OUTPUT_ACTIVATIONS.register("sigmoid", lambda y: 1.0 / (1.0 + jnp.exp(-y)))
