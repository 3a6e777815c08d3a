"""Denoisers: networks that predict the clean weights x0 from noisy weights
x_t and the timestep t: ``flax.nnx`` modules, handed to the training loop as
pure ``init(key)`` and ``apply(params, x_t, t) -> x0`` on flat weight vectors
in the canonical layout (inr/learned.py).

- ``transformer``: the paper's (G.pt / HyperDiffusion style): one token per
  weight or bias tensor (or per piece of one, ``token_size``), each with its
  own linear encoder and decoder, plus a timestep token.
- ``dws``: beyond the paper, a permutation-equivariant denoiser built from the
  weight-space DWS layers: permuting the hidden neurons of x_t permutes the
  predicted x0 the same way. The timestep enters every layer as a shift of the
  channels, the same at every neuron.
- ``mlp``: beyond the paper, a residual MLP over the whole flat weight vector,
  the timestep as a scale and shift of every block's input (FiLM): every
  weight sees every other through ``width`` dense units, with no per-tensor
  bottleneck."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from inr.diffusion.tokens import Tokenizer
from inr.learned import Functional, dense, functional, layer_norm
from inr.nn import draws
from inr.registry import Registry
from inr.schema import RENAMED, own_keys, register_variant
from inr.weightspace import dws
from inr.weightspace.space import WeightSpace


@dataclass
class DenoiserConfig:
    """The denoiser, typed by ``name`` (see :mod:`inr.schema`): transformer (the
    paper's) | dws (permutation-equivariant DWS layers; plain MLP fields only) |
    mlp (residual MLP over the flat weights); each holds only its own keys."""

    name: str = "transformer"

    def problems(self) -> list[tuple[bool, str]]:
        """``(bad, message)`` of every setting this denoiser cannot use."""
        return []


@register_variant(DenoiserConfig, "transformer")
@dataclass
class TransformerDenoiserConfig(DenoiserConfig):
    name: str = "transformer"
    width: int = 256
    """token width"""
    depth: int = 4
    """transformer blocks (G.pt uses 12)"""
    heads: int = 4
    """attention heads (must divide width)"""
    mlp_ratio: int = 4
    """hidden width of each block's MLP over the token width"""
    token_size: int = 0
    """cut tensors into tokens of at most this many weights (G.pt's chunking), so
    that no large tensor is decoded from a single ``width``-value token; 0: one
    token per tensor (HyperDiffusion's layer-by-layer split)"""

    def problems(self):
        return [(self.width < 2 or self.width % 2 or self.heads < 1 or self.width % self.heads,
                 f"model.width must be even and divisible by model.heads (got {self.width}, {self.heads})"),
                (self.depth < 1, f"model.depth must be >= 1 (got {self.depth})")]


@register_variant(DenoiserConfig, "dws")
@dataclass
class DWSDenoiserConfig(DenoiserConfig):
    name: str = "dws"
    channels: int = 16
    """channels per weight of the hidden DWS layers (and the timestep embedding's width)"""
    layers: int = 4
    """DWS layers (at least 2)"""
    heads: int = 4
    """attention heads of the set layers (as in the weight-space models)"""
    attention: bool = True
    """the set-layer maps add self-attention over the neurons"""

    def problems(self):
        return [(self.channels < 2 or self.channels % 2 or self.heads < 1,
                 f"model.channels must be even and model.heads >= 1 (got {self.channels}, {self.heads})"),
                (self.layers < 2, f"model.layers must be >= 2 for the dws denoiser (got {self.layers})")]


@register_variant(DenoiserConfig, "mlp")
@dataclass
class MLPDenoiserConfig(DenoiserConfig):
    name: str = "mlp"
    width: int = 256
    """hidden units of the residual stream"""
    depth: int = 4
    """residual blocks"""
    mlp_ratio: int = 4
    """hidden width of each block's MLP over ``width``"""

    def problems(self):
        return [(self.width < 2 or self.width % 2, f"model.width must be even (got {self.width})"),
                (self.depth < 1, f"model.depth must be >= 1 (got {self.depth})")]


RENAMED.update({"DWSDenoiserConfig.width": "model.channels", "DWSDenoiserConfig.depth": "model.layers"})

V1_KEYS = {"dws": {"width": "channels", "depth": "layers"}}
"""format 1's flat denoiser keys that a variant names otherwise"""


def upgrade_v1(model: dict) -> dict:
    """A denoiser section saved by format 1 (every denoiser's keys in one flat
    section) -> its variant's keys."""
    renames = V1_KEYS.get(model.get("name", "transformer"), {})
    return own_keys(DenoiserConfig, {renames.get(k, k): v for k, v in model.items()}, "transformer")


DENOISERS: Registry = Registry("denoiser")
"""name -> ``(cfg, tokenizer) -> Functional`` (inr/learned.py): ``init(key)`` and
``apply(params, x_t, t) -> prediction``"""


def timestep_embedding(t, dim: int, max_period: float = 10000.0):
    half = dim // 2
    freqs = jnp.exp(-np.log(max_period) * jnp.arange(half) / half)
    args = t[:, None].astype(jnp.float32) * freqs[None]
    return jnp.concatenate([jnp.cos(args), jnp.sin(args)], -1)


def _time_layers(d: int, rngs: nnx.Rngs) -> nnx.List:
    return nnx.List([dense(d, d, rngs), dense(d, d, rngs)])


def _time(layers, t):
    """``(B,)`` timesteps -> ``(B, d)``: sinusoidal embedding, then a SiLU MLP
    (``d``: the layers' width)."""
    return layers[1](jax.nn.silu(layers[0](timestep_embedding(t, layers[0].in_features))))


class Block(nnx.Module):
    """A pre-norm transformer block: multi-head self-attention, then a GELU MLP."""

    def __init__(self, d: int, heads: int, mlp_ratio: int, rngs: nnx.Rngs):
        self.heads = heads
        self.ln1, self.ln2 = layer_norm(d, rngs), layer_norm(d, rngs)
        self.qkv, self.proj = dense(d, 3 * d, rngs), dense(d, d, rngs, 0.5)
        self.fc1, self.fc2 = dense(d, mlp_ratio * d, rngs), dense(mlp_ratio * d, d, rngs, 0.5)

    def __call__(self, h):
        b, n, d = h.shape
        q, k, v = jnp.moveaxis(self.qkv(self.ln1(h)).reshape(b, n, 3, self.heads, d // self.heads), 2, 0)
        h = h + self.proj(jax.nn.dot_product_attention(q, k, v).reshape(b, n, d))
        return h + self.fc2(jax.nn.gelu(self.fc1(self.ln2(h))))


class Transformer(nnx.Module):
    def __init__(self, cfg: TransformerDenoiserConfig, tok: Tokenizer, rngs: nnx.Rngs):
        d, pieces = cfg.width, tok.pieces(cfg.token_size)
        self.tok, self.token_size = tok, cfg.token_size
        self.enc = nnx.List([dense(n, d, rngs) for _, n in pieces])
        self.dec = nnx.List([dense(d, n, rngs, 0.1) for _, n in pieces])
        self.pos = nnx.Param(draws.normal(rngs.params(), (len(pieces) + 1, d), scale=0.02))
        self.time = _time_layers(d, rngs)
        self.blocks = nnx.List([Block(d, cfg.heads, cfg.mlp_ratio, rngs) for _ in range(cfg.depth)])
        self.ln_out = layer_norm(d, rngs)

    def __call__(self, xt, t):
        tokens = [enc(x) for x, enc in zip(self.tok.split(xt, self.token_size), self.enc)]
        h = jnp.stack(tokens + [_time(self.time, t)], axis=1) + self.pos[...]
        for block in self.blocks:
            h = block(h)
        h = self.ln_out(h)
        return self.tok.join([dec(h[:, i]) for i, dec in enumerate(self.dec)])


@DENOISERS.register("transformer")
def transformer(cfg: TransformerDenoiserConfig, tok: Tokenizer) -> Functional:
    return functional(lambda rngs: Transformer(cfg, tok, rngs))


class DWSDenoiser(nnx.Module):
    def __init__(self, cfg: DWSDenoiserConfig, tok: Tokenizer, rngs: nnx.Rngs):
        self.space, c = WeightSpace.of_layout(tok.layout, "the dws denoiser"), cfg.channels
        chans = [1] + [c] * (cfg.layers - 1) + [1]
        self.layers = nnx.List([dws.DWSLinear(self.space, a, b, attention=cfg.attention, heads=cfg.heads, rngs=rngs)
                                for a, b in zip(chans[:-1], chans[1:])])
        for w in self.layers[-1].blocks:
            w[...] = w[...] * 0.1
        self.time = _time_layers(c, rngs)
        self.shift = nnx.List([dense(c, c, rngs) for _ in range(cfg.layers - 1)])

    def __call__(self, xt, t):
        temb = _time(self.time, t)
        fixed = [u.fixed for u in self.space.tensors]
        xs = self.space.from_flat(xt)
        for i, layer in enumerate(self.layers):
            xs = layer(xs)
            if i < len(self.layers) - 1:
                shift = self.shift[i](temb)  # (B, C), the same at every neuron
                xs = [x + jnp.tile(shift, f).reshape((x.shape[0],) + (1,) * (x.ndim - 2) + (-1,))
                      for x, f in zip(xs, fixed)]
                xs = dws.channel_norm([jax.nn.gelu(x) for x in xs])
        return self.space.to_flat(xs)


@DENOISERS.register("dws")
def dws_denoiser(cfg: DWSDenoiserConfig, tok: Tokenizer) -> Functional:
    return functional(lambda rngs: DWSDenoiser(cfg, tok, rngs))


class FiLMBlock(nnx.Module):
    """A residual MLP block whose normalised input is scaled and shifted by the timestep."""

    def __init__(self, d: int, hidden: int, rngs: nnx.Rngs):
        self.ln, self.film = layer_norm(d, rngs), dense(d, 2 * d, rngs, 0.1)
        self.fc1, self.fc2 = dense(d, hidden, rngs), dense(hidden, d, rngs, 0.5)

    def __call__(self, h, temb):
        scale, shift = jnp.split(self.film(temb), 2, axis=-1)
        return h + self.fc2(jax.nn.gelu(self.fc1(self.ln(h) * (1 + scale) + shift)))


class MLPDenoiser(nnx.Module):
    def __init__(self, cfg: MLPDenoiserConfig, tok: Tokenizer, rngs: nnx.Rngs):
        d = cfg.width
        self.enc = dense(tok.size, d, rngs)
        self.time = _time_layers(d, rngs)
        self.blocks = nnx.List([FiLMBlock(d, cfg.mlp_ratio * d, rngs) for _ in range(cfg.depth)])
        self.ln_out, self.dec = layer_norm(d, rngs), dense(d, tok.size, rngs, 0.1)

    def __call__(self, xt, t):
        temb = jax.nn.silu(_time(self.time, t))
        h = self.enc(xt)
        for block in self.blocks:
            h = block(h, temb)
        return self.dec(self.ln_out(h))


@DENOISERS.register("mlp")
def mlp_denoiser(cfg: MLPDenoiserConfig, tok: Tokenizer) -> Functional:
    return functional(lambda rngs: MLPDenoiser(cfg, tok, rngs))
