"""Pointwise activations, each ``act(z, scale) -> y``, and their typed configs.

``z`` is the pre-activation ``W x + b``; ``scale`` is the layer's frequency or
width parameter (omega0 for sines, s for gauss; relu ignores it). Shape
parameters beyond it (WIRE's s0) are bound from the activation's config, whose
dataclass holds only that activation's keys (``model.activation.omega0``),
selected by ``model.activation.name``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, ClassVar

import jax
import jax.numpy as jnp

from inr.nn import fastmath
from inr.registry import Registry
from inr.schema import from_dict, register_variant

ACTIVATIONS: Registry = Registry("activation")


@dataclass
class ActivationConfig:
    """Hidden activation, typed by ``name`` (see :mod:`inr.schema`); ``activation:
    sine`` is short for ``activation: {name: sine}``."""

    name: str = "relu"
    odd: ClassVar[bool] = False
    """an odd function: flipping the sign of a hidden neuron's incoming weights,
    bias and outgoing weights leaves the field unchanged (the sign symmetry
    that weight-space models can respect)"""

    def scales(self, n_layers: int) -> list[float]:
        """Each activated layer's ``scale`` (also what SIREN-style initialisers divide by)."""
        return [1.0] * n_layers

    def function(self) -> Callable:
        """``act(z, scale) -> y`` with this config's shape parameters bound."""
        return ACTIVATIONS.get(self.name)


@register_variant(ActivationConfig, "relu")
@dataclass
class ReluActivation(ActivationConfig):
    name: str = "relu"


@dataclass
class PeriodicActivation(ActivationConfig):
    """The sine family: layer 0 at ``first_omega0``, the others at ``omega0``."""

    omega0: float = 30.0
    """frequency of every activated layer after the first"""
    first_omega0: float = 30.0
    """the first layer's frequency (SIREN's audio fits use 3000)"""

    def scales(self, n_layers: int) -> list[float]:
        return [self.first_omega0] + [self.omega0] * (n_layers - 1)


@register_variant(ActivationConfig, "sine")
@dataclass
class SineActivation(PeriodicActivation):
    name: str = "sine"
    odd: ClassVar[bool] = True


@register_variant(ActivationConfig, "sine_exact")
@dataclass
class SineExactActivation(PeriodicActivation):
    name: str = "sine_exact"
    odd: ClassVar[bool] = True


@register_variant(ActivationConfig, "finer")
@dataclass
class FinerActivation(PeriodicActivation):
    name: str = "finer"
    odd: ClassVar[bool] = True


@register_variant(ActivationConfig, "spder")
@dataclass
class SpderActivation(PeriodicActivation):
    name: str = "spder"
    odd: ClassVar[bool] = True


@register_variant(ActivationConfig, "spder_atan")
@dataclass
class SpderAtanActivation(PeriodicActivation):
    name: str = "spder_atan"


@register_variant(ActivationConfig, "gauss")
@dataclass
class GaussActivation(ActivationConfig):
    name: str = "gauss"
    scale: float = 10.0
    """s of exp(-(s z)^2) in every activated layer after the first"""
    first_scale: float = 10.0
    """the first layer's s"""

    def scales(self, n_layers: int) -> list[float]:
        return [self.first_scale] + [self.scale] * (n_layers - 1)


@register_variant(ActivationConfig, "wire")
@dataclass
class WireActivation(PeriodicActivation):
    name: str = "wire"
    omega0: float = 20.0
    first_omega0: float = 20.0
    s0: float = 10.0
    """the Gabor wavelet's spread s0"""

    def function(self) -> Callable:
        return partial(wire, s0=self.s0)


def activation_config(name: str, **keys) -> ActivationConfig:
    """The typed config of activation ``name`` with ``keys`` over its defaults."""
    return from_dict(ActivationConfig, {"name": name, **keys}, "activation")


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


@ACTIVATIONS.register("finer")
def finer(z, scale):
    """FINER (Liu et al. 2024): sin(omega0 (|z| + 1) z); the variable-frequency
    factor (|z| + 1) is not differentiated through, as in the paper."""
    return fastmath.sin(scale * jax.lax.stop_gradient(jnp.abs(z) + 1.0) * z)


@ACTIVATIONS.register("spder")
def spder(z, scale):
    """SPDER (Shah & Sitawarin 2023): sin(u) sqrt(|u|), u = omega0 z.

    A 1e-30 floor under the root keeps the gradient finite at u = 0, where
    sin(u)/sqrt(|u|) -> 0 anyway."""
    u = scale * z
    return fastmath.sin(u) * jnp.sqrt(jnp.abs(u) + 1e-30)


@ACTIVATIONS.register("spder_atan")
def spder_atan(z, scale):
    """SPDER's audio activation: sin(u) arctan(u), u = omega0 z."""
    u = scale * z
    return fastmath.sin(u) * jnp.arctan(u)


@ACTIVATIONS.register("gauss")
def gauss(z, scale):
    """Gaussian activation (Ramasinghe & Lucey 2022): exp(-(s z)^2)."""
    return jnp.exp(-((scale * z) ** 2))


@ACTIVATIONS.register("wire")
def wire(z, scale, s0):
    """WIRE (Saragadam et al. 2023): the complex Gabor wavelet
    exp(j omega0 z - |s0 z|^2); real input gives complex output."""
    return jnp.exp(1j * scale * z - jnp.abs(s0 * z) ** 2)


OUTPUT_ACTIVATIONS: Registry = Registry("output activation")
OUTPUT_ACTIVATIONS.register("identity", lambda y: y)
OUTPUT_ACTIVATIONS.register("sigmoid", lambda y: 1.0 / (1.0 + jnp.exp(-y)))
OUTPUT_ACTIVATIONS.register("real", lambda y: jnp.real(y))
