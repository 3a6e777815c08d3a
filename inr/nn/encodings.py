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

from inr.nn import draws
from inr.registry import Registry
from inr.schema import from_dict, register_variant


@dataclass
class EncodingConfig:
    """Input encoding, typed by ``name`` (see :mod:`inr.schema`): each
    encoding's dataclass below holds only its own keys."""

    name: str = "identity"


@register_variant(EncodingConfig, "identity")
@dataclass
class IdentityEncoding(EncodingConfig):
    name: str = "identity"


@register_variant(EncodingConfig, "nerf")
@dataclass
class NerfEncoding(EncodingConfig):
    name: str = "nerf"
    n_freqs: int = 6
    """number of octaves L (frequencies 2^k pi, k < L)."""
    include_input: bool = True
    """prepend the raw coordinates."""


@register_variant(EncodingConfig, "gauss_rff")
@dataclass
class GaussRffEncoding(EncodingConfig):
    name: str = "gauss_rff"
    n_features: int = 256
    """number of random frequencies m."""
    sigma: float = 10.0
    """std of the frequencies, in cycles per unit of the [0, 1] domain."""
    seed: int = 0
    """seed of the fixed random matrix (shared by all fields using this spec)."""


@register_variant(EncodingConfig, "rbf")
@dataclass
class RbfEncoding(EncodingConfig):
    name: str = "rbf"
    n_centers: int = 500
    """Gaussian centres per axis, evenly spaced on [0, 1]."""
    sigma: float = 0.07
    """width of each Gaussian on the [0, 1] domain."""


@register_variant(EncodingConfig, "hash")
@dataclass
class HashEncoding(EncodingConfig):
    name: str = "hash"
    levels: int = 16
    """number of resolution levels L."""
    features_per_level: int = 2
    """features F stored per grid vertex."""
    log2_table_size: int = 19
    """each level holds at most T = 2^this vertices (hashed beyond that)."""
    table_size: int = 0
    """> 0: T itself, any whole number (the hash is taken mod T), instead of 2^log2_table_size."""
    base_resolution: int = 16
    """coarsest resolution N_min."""
    max_resolution: int = 512
    """finest resolution; levels grow geometrically, N_l = floor(N_min b^l)."""
    probes: int = 1
    """hash functions per hashed level; a vertex's features are the sum of their P rows (1: Instant-NGP)."""
    max_params_per_sample: float = 0.0
    """> 0: shrink the tables (T halved from 2^log2_table_size, down to 2^6, then grown to the largest T short of
    the next power of two) until the whole field holds at most this many parameters per sample of the signal it
    fits; the run records the T it chose (table_size). 0: T as given."""


@register_variant(EncodingConfig, "sape")
@dataclass
class SapeEncoding(EncodingConfig):
    name: str = "sape"
    n_features: int = 256
    """number of random frequencies, sorted by magnitude, unmasked progressively."""
    sigma: float = 10.0
    """std of the frequencies, in cycles per unit of the [0, 1] domain."""
    seed: int = 0
    """seed of the fixed random frequencies."""
    resolution: int = 128
    """cells per axis of the mask grid (128 for images, 64 for 3-D)."""
    epsilon: float = 1e-3
    """cells whose blurred mean squared error falls below this freeze."""


def encoding_config(name: str, **keys) -> EncodingConfig:
    """The typed config of encoding ``name`` with ``keys`` over its defaults."""
    return from_dict(EncodingConfig, {"name": name, **keys}, "encoding")


@dataclass(frozen=True)
class Encoding:
    """``fn(buffers, params, x)`` maps ``(N, d)`` coordinates to ``(N, out_dim)``.

    ``buffers`` are fixed arrays saved with the field; ``init(key)`` returns
    trained parameters (``None`` for encodings that have none).
    """

    out_dim: int
    fn: Callable
    buffers: dict = field(default_factory=dict)
    init: Callable | None = None
    update: Callable | None = None
    """``update(params, coords, errors) -> params``: a progression step between
    optimizer steps, from per-sample errors (SAPE)."""
    update_every: Callable | None = None
    """``update_every(total_steps) -> steps`` between updates."""

    def __call__(self, x, params=None):
        return self.fn(self.buffers, params, x)


ENCODINGS: Registry = Registry("encoding")


@ENCODINGS.register("identity")
def identity(cfg: EncodingConfig, in_dim: int) -> Encoding:
    return Encoding(in_dim, lambda buffers, params, x: x)


@ENCODINGS.register("nerf")
def nerf(cfg: EncodingConfig, in_dim: int) -> Encoding:
    """gamma(x) = [x, sin(2^k pi x), cos(2^k pi x)]_{k<L} on [-1, 1] coordinates."""
    freqs = jnp.pi * 2.0 ** jnp.arange(cfg.n_freqs, dtype=jnp.float32)

    def fn(buffers, params, x):
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
    b = draws.normal(key, (cfg.n_features, in_dim), jnp.float32, scale=cfg.sigma)

    def fn(buffers, params, x):
        proj = 2.0 * jnp.pi * ((x + 1.0) * 0.5) @ buffers["B"].T
        return jnp.concatenate([jnp.sin(proj), jnp.cos(proj)], axis=-1)

    return Encoding(2 * cfg.n_features, fn, {"B": b})


@ENCODINGS.register("rbf")
def rbf(cfg: EncodingConfig, in_dim: int) -> Encoding:
    """Gaussian RBF positional encoding (Zheng et al. 2021): per axis,
    exp(-(v - c_i)^2 / (2 sigma^2)) over n evenly spaced centres on [0, 1]
    (v = (x + 1) / 2), each axis' block normalised to unit L2 norm."""
    centers = jnp.linspace(0.0, 1.0, cfg.n_centers, dtype=jnp.float32)

    def fn(buffers, params, x):
        v = (x[..., :, None] + 1.0) * 0.5
        feats = jnp.exp(-((v - centers) ** 2) / (2.0 * cfg.sigma**2))
        feats = feats / jnp.maximum(jnp.linalg.norm(feats, axis=-1, keepdims=True), 1e-12)
        return feats.reshape(*x.shape[:-1], -1)

    return Encoding(in_dim * cfg.n_centers, fn)


def build_encoding(cfg: EncodingConfig, in_dim: int) -> Encoding:
    if type(cfg) is EncodingConfig:  # a bare name: that encoding's defaults
        cfg = encoding_config(cfg.name)
    return ENCODINGS.get(cfg.name)(cfg, in_dim)


# Encodings defined in their own modules register themselves on import.
from inr.nn import hashgrid as _hashgrid  # noqa: E402,F401
from inr.nn import sape as _sape  # noqa: E402,F401
