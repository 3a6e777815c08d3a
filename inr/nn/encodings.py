"""Input encodings: fixed maps from coordinates to features.

Each factory builds an :class:`Encoding` from an :class:`EncodingConfig` and the
coordinate dimension. Random encodings draw their fixed matrices from the
config's own ``seed`` so that they are part of the architecture: every field
of a collection shares them, whatever seed initialises its weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp

from inr.registry import Registry


@dataclass
class EncodingConfig:
    """Input encoding. ``name``: identity | nerf | gauss_rff."""

    name: str = "identity"
    n_freqs: int = 6
    """nerf: number of octaves L (frequencies 2^k pi, k < L)."""
    include_input: bool = True
    """nerf: prepend the raw coordinates."""
    n_features: int = 256
    """gauss_rff: number of random frequencies m."""
    sigma: float = 10.0
    """gauss_rff: std of the frequencies, in cycles per unit of the [0, 1] domain."""
    seed: int = 0
    """seed of the fixed random matrices (shared by all fields using this spec)."""


@dataclass(frozen=True)
class Encoding:
    out_dim: int
    fn: Callable
    buffers: dict = field(default_factory=dict)

    def __call__(self, x):
        return self.fn(self.buffers, x)


ENCODINGS: Registry = Registry("encoding")


@ENCODINGS.register("identity")
def identity(cfg: EncodingConfig, in_dim: int) -> Encoding:
    return Encoding(in_dim, lambda buffers, x: x)


@ENCODINGS.register("nerf")
def nerf(cfg: EncodingConfig, in_dim: int) -> Encoding:
    """gamma(x) = [x, sin(2^k pi x), cos(2^k pi x)]_{k<L} on [-1, 1] coordinates."""
    freqs = jnp.pi * 2.0 ** jnp.arange(cfg.n_freqs, dtype=jnp.float32)

    def fn(buffers, x):
        xf = (x[..., :, None] * freqs).reshape(*x.shape[:-1], -1)
        parts = [jnp.sin(xf), jnp.cos(xf)]
        return jnp.concatenate(([x] if cfg.include_input else []) + parts, axis=-1)

    out = 2 * in_dim * cfg.n_freqs + (in_dim if cfg.include_input else 0)
    return Encoding(out, fn)


@ENCODINGS.register("gauss_rff")
def gauss_rff(cfg: EncodingConfig, in_dim: int) -> Encoding:
    """Tancik et al.: [sin(2 pi B v), cos(2 pi B v)], B ~ N(0, sigma^2) (m x d), fixed.

    v = (x + 1) / 2 maps our [-1, 1] coordinates onto the paper's [0, 1].
    """
    key = jax.random.PRNGKey(cfg.seed)
    b = cfg.sigma * jax.random.normal(key, (cfg.n_features, in_dim), jnp.float32)

    def fn(buffers, x):
        proj = 2.0 * jnp.pi * ((x + 1.0) * 0.5) @ buffers["B"].T
        return jnp.concatenate([jnp.sin(proj), jnp.cos(proj)], axis=-1)

    return Encoding(2 * cfg.n_features, fn, {"B": b})


def build_encoding(cfg: EncodingConfig, in_dim: int) -> Encoding:
    return ENCODINGS.get(cfg.name)(cfg, in_dim)
