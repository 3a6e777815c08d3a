"""Pointwise activations, each ``act(z, scale, width) -> y``.

``z`` is the pre-activation ``W x + b``; ``scale`` is the layer's frequency or
width parameter (omega0 for sines, s for gauss); ``width`` is a second shape
parameter (WIRE's s0). Activations ignore the parameters they do not use.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from inr.nn import fastmath
from inr.registry import Registry

ACTIVATIONS: Registry = Registry("activation")


@ACTIVATIONS.register("relu")
def relu(z, scale, width=None):
    return jnp.maximum(z, 0.0)


@ACTIVATIONS.register("sine")
def sine(z, scale, width=None):
    """SIREN: sin(omega0 * z), with the fast polynomial sine."""
    return fastmath.sin(scale * z)


@ACTIVATIONS.register("sine_exact")
def sine_exact(z, scale, width=None):
    """SIREN with XLA's own sine (reference for the fast kernel)."""
    return jnp.sin(scale * z)


@ACTIVATIONS.register("finer")
def finer(z, scale, width=None):
    """FINER (Liu et al. 2024): sin(omega0 (|z| + 1) z); the variable-frequency
    factor (|z| + 1) is not differentiated through, as in the paper."""
    return fastmath.sin(scale * jax.lax.stop_gradient(jnp.abs(z) + 1.0) * z)


@ACTIVATIONS.register("spder")
def spder(z, scale, width=None):
    """SPDER (Shah & Sitawarin 2023): sin(u) sqrt(|u|), u = omega0 z.

    A 1e-30 floor under the root keeps the gradient finite at u = 0, where
    sin(u)/sqrt(|u|) -> 0 anyway."""
    u = scale * z
    return fastmath.sin(u) * jnp.sqrt(jnp.abs(u) + 1e-30)


@ACTIVATIONS.register("spder_atan")
def spder_atan(z, scale, width=None):
    """SPDER's audio activation: sin(u) arctan(u), u = omega0 z."""
    u = scale * z
    return fastmath.sin(u) * jnp.arctan(u)


@ACTIVATIONS.register("gauss")
def gauss(z, scale, width=None):
    """Gaussian activation (Ramasinghe & Lucey 2022): exp(-(s z)^2)."""
    return jnp.exp(-((scale * z) ** 2))


@ACTIVATIONS.register("wire")
def wire(z, scale, width=10.0):
    """WIRE (Saragadam et al. 2023): the complex Gabor wavelet
    exp(j omega0 z - |s0 z|^2); real input gives complex output."""
    return jnp.exp(1j * scale * z - jnp.abs(width * z) ** 2)


OUTPUT_ACTIVATIONS: Registry = Registry("output activation")
OUTPUT_ACTIVATIONS.register("identity", lambda y: y)
OUTPUT_ACTIVATIONS.register("sigmoid", lambda y: 1.0 / (1.0 + jnp.exp(-y)))
OUTPUT_ACTIVATIONS.register("real", lambda y: jnp.real(y))
