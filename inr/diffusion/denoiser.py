"""The denoiser: a transformer over weight tokens plus a timestep token (G.pt /
HyperDiffusion style). Each tensor has its own linear encoder and decoder;
the network predicts the clean weights x0. Pure ``init(key)`` and
``apply(params, x_t, t) -> x0``."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from inr.diffusion.tokens import Tokenizer


@dataclass
class DenoiserConfig:
    width: int = 256
    """token width"""
    depth: int = 4
    """transformer blocks (G.pt uses 12)"""
    heads: int = 4
    mlp_ratio: int = 4


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


def transformer(cfg: DenoiserConfig, tok: Tokenizer):
    d, n_tok = cfg.width, len(tok.sizes)

    def init(key):
        k = iter(jax.random.split(key, 4 * len(tok.sizes) + 6 * cfg.depth + 8))
        blocks = [{"ln1": _ln(d), "qkv": _dense(next(k), d, 3 * d), "proj": _dense(next(k), d, d, 0.5),
                   "ln2": _ln(d), "fc1": _dense(next(k), d, cfg.mlp_ratio * d),
                   "fc2": _dense(next(k), cfg.mlp_ratio * d, d, 0.5)} for _ in range(cfg.depth)]
        return {
            "enc": [_dense(next(k), n, d) for n in tok.sizes],
            "dec": [_dense(next(k), d, n, 0.1) for n in tok.sizes],
            "pos": jax.random.normal(next(k), (n_tok + 1, d)) * 0.02,
            "time": [_dense(next(k), d, d), _dense(next(k), d, d)],
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
        parts = tok.split(xt)
        tokens = [x @ e["W"] + e["b"] for x, e in zip(parts, params["enc"])]
        temb = timestep_embedding(t, d)
        temb = jax.nn.silu(temb @ params["time"][0]["W"] + params["time"][0]["b"])
        temb = temb @ params["time"][1]["W"] + params["time"][1]["b"]
        h = jnp.stack(tokens + [temb], axis=1) + params["pos"]
        for p in params["blocks"]:
            h = h + attention(p, _layer_norm(p["ln1"], h))
            m = jax.nn.gelu(_layer_norm(p["ln2"], h) @ p["fc1"]["W"] + p["fc1"]["b"])
            h = h + m @ p["fc2"]["W"] + p["fc2"]["b"]
        h = _layer_norm(params["ln_out"], h)
        return tok.join([h[:, i] @ dd["W"] + dd["b"] for i, dd in enumerate(params["dec"])])

    return init, apply
