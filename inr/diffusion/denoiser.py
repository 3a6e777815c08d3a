"""Denoisers: networks that predict the clean weights x0 from noisy weights
x_t and the timestep t. Pure ``init(key)`` and ``apply(params, x_t, t) -> x0``
on flat weight vectors in the canonical layout.

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

from inr.diffusion.tokens import Tokenizer
from inr.errors import InrError
from inr.registry import Registry
from inr.weightspace import dws
from inr.weightspace.space import WeightSpace


@dataclass
class DenoiserConfig:
    name: str = "transformer"
    """transformer (the paper's) | dws (permutation-equivariant DWS layers; plain MLP fields only) |
    mlp (residual MLP over the flat weights)"""
    width: int = 256
    """token width (transformer); channels per weight (dws); hidden units (mlp)"""
    depth: int = 4
    """transformer blocks (G.pt uses 12); DWS layers (dws, at least 2); residual blocks (mlp)"""
    heads: int = 4
    """attention heads (transformer: must divide width; dws: as in the weight-space models)"""
    mlp_ratio: int = 4
    """transformer, mlp: hidden width of each block's MLP over the token width (or ``width``)"""
    attention: bool = True
    """dws: the set-layer maps add self-attention over the neurons"""
    token_size: int = 0
    """transformer: cut tensors into tokens of at most this many weights (G.pt's
    chunking), so that no large tensor is decoded from a single ``width``-value
    token; 0: one token per tensor (HyperDiffusion's layer-by-layer split)"""


DENOISERS: Registry = Registry("denoiser")


def _dense(key, n_in, n_out, scale=1.0):
    return {"W": jax.random.normal(key, (n_in, n_out)) * scale / np.sqrt(n_in), "b": jnp.zeros((n_out,))}


def _ln(d):
    return {"g": jnp.ones((d,)), "b": jnp.zeros((d,))}


def _layer_norm(p, x):
    mean = jnp.mean(x, -1, keepdims=True)
    var = jnp.var(x, -1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + 1e-6) * p["g"] + p["b"]


def timestep_embedding(t, dim: int, max_period: float = 10000.0):
    half = dim // 2
    freqs = jnp.exp(-np.log(max_period) * jnp.arange(half) / half)
    args = t[:, None].astype(jnp.float32) * freqs[None]
    return jnp.concatenate([jnp.cos(args), jnp.sin(args)], -1)


def _init_time(keys, d):
    return [_dense(keys[0], d, d), _dense(keys[1], d, d)]


def _time(p, t, d):
    """``(B,)`` timesteps -> ``(B, d)``: sinusoidal embedding, then a SiLU MLP."""
    h = jax.nn.silu(timestep_embedding(t, d) @ p[0]["W"] + p[0]["b"])
    return h @ p[1]["W"] + p[1]["b"]


@DENOISERS.register("transformer")
def transformer(cfg: DenoiserConfig, tok: Tokenizer):
    d, pieces = cfg.width, tok.pieces(cfg.token_size)
    n_tok = len(pieces)

    def init(key):
        k = iter(jax.random.split(key, 4 * n_tok + 6 * cfg.depth + 8))
        blocks = [{"ln1": _ln(d), "qkv": _dense(next(k), d, 3 * d), "proj": _dense(next(k), d, d, 0.5),
                   "ln2": _ln(d), "fc1": _dense(next(k), d, cfg.mlp_ratio * d),
                   "fc2": _dense(next(k), cfg.mlp_ratio * d, d, 0.5)} for _ in range(cfg.depth)]
        return {
            "enc": [_dense(next(k), n, d) for _, n in pieces],
            "dec": [_dense(next(k), d, n, 0.1) for _, n in pieces],
            "pos": jax.random.normal(next(k), (n_tok + 1, d)) * 0.02,
            "time": _init_time([next(k), next(k)], d),
            "blocks": blocks,
            "ln_out": _ln(d),
        }

    def attention(p, x):
        b, n, _ = x.shape
        qkv = (x @ p["qkv"]["W"] + p["qkv"]["b"]).reshape(b, n, 3, cfg.heads, d // cfg.heads)
        q, k_, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        w = jax.nn.softmax(jnp.einsum("bqhd,bkhd->bhqk", q, k_) / np.sqrt(d // cfg.heads), -1)
        out = jnp.einsum("bhqk,bkhd->bqhd", w, v).reshape(b, n, d)
        return out @ p["proj"]["W"] + p["proj"]["b"]

    def apply(params, xt, t):
        parts = tok.split(xt, cfg.token_size)
        tokens = [x @ e["W"] + e["b"] for x, e in zip(parts, params["enc"])]
        h = jnp.stack(tokens + [_time(params["time"], t, d)], axis=1) + params["pos"]
        for p in params["blocks"]:
            h = h + attention(p, _layer_norm(p["ln1"], h))
            m = jax.nn.gelu(_layer_norm(p["ln2"], h) @ p["fc1"]["W"] + p["fc1"]["b"])
            h = h + m @ p["fc2"]["W"] + p["fc2"]["b"]
        h = _layer_norm(params["ln_out"], h)
        return tok.join([h[:, i] @ dd["W"] + dd["b"] for i, dd in enumerate(params["dec"])])

    return init, apply


def mlp_space(tok: Tokenizer) -> WeightSpace:
    """The weight space of a plain MLP's layout (``mlp.i.W`` ``(d_{i-1}, d_i)``, ``mlp.i.b``)."""
    expected = [name for i in range(len(tok.names) // 2) for name in (f"mlp.{i}.W", f"mlp.{i}.b")]
    if list(tok.names) != expected or len(expected) < 4:
        raise InrError("the dws denoiser needs fields that are plain MLPs with a hidden layer "
                       f"(parameters mlp.0.W, mlp.0.b, ...); this collection has {', '.join(tok.names)}")
    return WeightSpace.from_weight_shapes(tok.shapes[::2])


def to_tensors(tok: Tokenizer, space: WeightSpace, flat) -> list:
    """(B, P) flat weights of a plain MLP -> the weight-space tensors (one channel)."""
    parts = [p.reshape((-1,) + s) for p, s in zip(tok.split(flat), tok.shapes)]
    return space.from_layers(list(zip(parts[::2], parts[1::2])))


def from_tensors(tok: Tokenizer, space: WeightSpace, xs: list):
    """The inverse of :func:`to_tensors`."""
    return tok.join([a.reshape(a.shape[0], -1) for w, b in space.to_layers(xs, 1) for a in (w, b)])


@DENOISERS.register("dws")
def dws_denoiser(cfg: DenoiserConfig, tok: Tokenizer):
    space = mlp_space(tok)
    c = cfg.width
    chans = [1] + [c] * (cfg.depth - 1) + [1]
    fixed = [t.fixed for t in space.tensors]

    def init(key):
        k_layers, k_time, k_shift = jax.random.split(key, 3)
        layers = [dws.init_linear(k, space, a, b, cfg.attention)
                  for k, a, b in zip(jax.random.split(k_layers, cfg.depth), chans[:-1], chans[1:])]
        layers[-1]["blocks"] = [w * 0.1 for w in layers[-1]["blocks"]]
        return {"layers": layers, "time": _init_time(jax.random.split(k_time), c),
                "shift": [_dense(k, c, c) for k in jax.random.split(k_shift, cfg.depth - 1)]}

    def apply(params, xt, t):
        temb = _time(params["time"], t, c)
        xs = to_tensors(tok, space, xt)
        for i, layer in enumerate(params["layers"]):
            xs = dws.linear(layer, space, xs, "mean", cfg.heads)
            if i < len(params["layers"]) - 1:
                shift = temb @ params["shift"][i]["W"] + params["shift"][i]["b"]  # (B, C), the same at every neuron
                xs = [x + jnp.tile(shift, f).reshape((x.shape[0],) + (1,) * (x.ndim - 2) + (-1,))
                      for x, f in zip(xs, fixed)]
                xs = dws.channel_norm([jax.nn.gelu(x) for x in xs])
        return from_tensors(tok, space, xs)

    return init, apply


@DENOISERS.register("mlp")
def mlp_denoiser(cfg: DenoiserConfig, tok: Tokenizer):
    d, hidden, size = cfg.width, cfg.mlp_ratio * cfg.width, tok.size

    def init(key):
        k = iter(jax.random.split(key, 4 * cfg.depth + 4))
        blocks = [{"ln": _ln(d), "film": _dense(next(k), d, 2 * d, 0.1), "fc1": _dense(next(k), d, hidden),
                   "fc2": _dense(next(k), hidden, d, 0.5)} for _ in range(cfg.depth)]
        return {"enc": _dense(next(k), size, d), "time": _init_time([next(k), next(k)], d), "blocks": blocks,
                "ln_out": _ln(d), "dec": _dense(next(k), d, size, 0.1)}

    def apply(params, xt, t):
        temb = jax.nn.silu(_time(params["time"], t, d))
        h = xt @ params["enc"]["W"] + params["enc"]["b"]
        for p in params["blocks"]:
            scale, shift = jnp.split(temb @ p["film"]["W"] + p["film"]["b"], 2, axis=-1)
            x = _layer_norm(p["ln"], h) * (1 + scale) + shift
            h = h + jax.nn.gelu(x @ p["fc1"]["W"] + p["fc1"]["b"]) @ p["fc2"]["W"] + p["fc2"]["b"]
        return _layer_norm(params["ln_out"], h) @ params["dec"]["W"] + params["dec"]["b"]

    return init, apply
