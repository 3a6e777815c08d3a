"""Weight initialisers for one dense layer: ``init(key, n_in, n_out, ctx)``.

Weights have shape ``(n_in, n_out)`` (the layer computes ``x @ W + b``), the
convention of the canonical weight layout.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from inr.nn import draws
from inr.registry import Registry

INITIALIZERS: Registry = Registry("initializer")


@dataclass(frozen=True)
class LayerContext:
    """Where a layer sits: needed by initialisers that depend on depth."""

    index: int
    n_layers: int
    omega0: float

    @property
    def is_first(self) -> bool:
        return self.index == 0


def _uniform(key, shape, bound):
    return draws.uniform(key, shape, jnp.float32, -bound, bound)


def torch_linear(key, n_in, n_out, ctx):
    """PyTorch ``nn.Linear`` default: W and b ~ U(-1/sqrt(n_in), 1/sqrt(n_in))."""
    kw, kb = jax.random.split(key)
    bound = 1.0 / jnp.sqrt(n_in)
    return _uniform(kw, (n_in, n_out), bound), _uniform(kb, (n_out,), bound)


@INITIALIZERS.register("siren")
def siren(key, n_in, n_out, ctx):
    """Sitzmann et al. 2020: first layer U(-1/n, 1/n), others
    U(-sqrt(6/n)/omega0, sqrt(6/n)/omega0); biases keep PyTorch's default."""
    kw, kb = jax.random.split(key)
    if ctx.is_first:
        bound = 1.0 / n_in
    else:
        bound = jnp.sqrt(6.0 / n_in) / ctx.omega0
    return _uniform(kw, (n_in, n_out), bound), _uniform(kb, (n_out,), 1.0 / jnp.sqrt(n_in))


@INITIALIZERS.register("dwsnets")
def dwsnets(key, n_in, n_out, ctx):
    """The SIREN of DWSNets' INR datasets (Navon et al. 2023): every sine
    layer, the first included, U(-sqrt(6/n)/omega0, sqrt(6/n)/omega0) with
    zero biases (so the first layer starts at low frequencies); the linear
    output layer keeps PyTorch's default."""
    if ctx.index == ctx.n_layers - 1:
        return torch_linear(key, n_in, n_out, ctx)
    bound = jnp.sqrt(6.0 / n_in) / ctx.omega0
    return _uniform(key, (n_in, n_out), bound), draws.zeros((n_out,))


@INITIALIZERS.register("glorot_normal")
def glorot_normal(key, n_in, n_out, ctx):
    """Glorot normal weights, zero biases (Tancik et al.'s FFN code)."""
    std = jnp.sqrt(2.0 / (n_in + n_out))
    return draws.normal(key, (n_in, n_out), jnp.float32, scale=std), draws.zeros((n_out,))


INITIALIZERS.register("torch_default", torch_linear)


@INITIALIZERS.register("wire")
def wire(key, n_in, n_out, ctx):
    """WIRE: a real first layer, then complex layers whose real and imaginary
    parts each follow PyTorch's default U(-1/sqrt(n_in), 1/sqrt(n_in))."""
    if ctx.is_first:
        return torch_linear(key, n_in, n_out, ctx)
    k_re, k_im = jax.random.split(key)
    (w_re, b_re), (w_im, b_im) = torch_linear(k_re, n_in, n_out, ctx), torch_linear(k_im, n_in, n_out, ctx)
    return jax.lax.complex(w_re, w_im), jax.lax.complex(b_re, b_im)
