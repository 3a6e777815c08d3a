"""Networks on weight spaces: DWSNet (equivariant layers + invariant head) and
the flattened-weights MLP baseline. Pure ``init(key) -> params`` and
``apply(params, tensors) -> logits``."""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from inr.registry import Registry
from inr.weightspace import dws
from inr.weightspace.space import WeightSpace


@dataclass
class WeightModelConfig:
    name: str = "dws"
    """dws (DWSNet) | mlp (MLP on the flattened weights)"""
    channels: int = 16
    """hidden channels of each DWS layer"""
    layers: int = 4
    """DWS layers"""
    pool: str = "max"
    """pooling in the layers and the invariant head: mean | max"""
    attention: bool = True
    """set-layer maps add self-attention over the neurons (DWSNets' SAB set layer)"""
    heads: int = 8
    """attention heads; a map whose output width w it does not divide uses gcd(heads, w)"""
    norm: bool = True
    """standardise channels between DWS layers"""
    head: list[int] = field(default_factory=lambda: [128, 128])
    """hidden widths of the head MLP"""


def _init_dense(key, widths):
    keys = jax.random.split(key, len(widths) - 1)
    return [{"W": jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / a), "b": jnp.zeros((b,))}
            for k, a, b in zip(keys, widths[:-1], widths[1:])]


def _dense(layers, x):
    for i, layer in enumerate(layers):
        x = x @ layer["W"] + layer["b"]
        if i < len(layers) - 1:
            x = jax.nn.relu(x)
    return x


@dataclass(frozen=True)
class WeightModel:
    init: callable
    apply: callable  # (params, tensors) -> logits (B, n_out)


WEIGHT_MODELS: Registry = Registry("weight-space model")


@WEIGHT_MODELS.register("dws")
def dwsnet(cfg: WeightModelConfig, space: WeightSpace, n_out: int) -> WeightModel:
    chans = [1] + [cfg.channels] * cfg.layers
    feat = sum(t.fixed for t in space.tensors) * cfg.channels

    def init(key):
        k_layers, k_head = jax.random.split(key)
        keys = jax.random.split(k_layers, cfg.layers)
        return {"layers": [dws.init_linear(k, space, a, b, cfg.attention)
                           for k, a, b in zip(keys, chans[:-1], chans[1:])],
                "head": _init_dense(k_head, [feat, *cfg.head, n_out])}

    def apply(params, xs):
        for i, layer in enumerate(params["layers"]):
            xs = dws.linear(layer, space, xs, cfg.pool, cfg.heads)
            xs = [jax.nn.relu(x) for x in xs]
            if cfg.norm and i < len(params["layers"]) - 1:
                xs = dws.channel_norm(xs)
        return _dense(params["head"], dws.invariant_pool(space, xs, cfg.pool))

    return WeightModel(init, apply)


@WEIGHT_MODELS.register("mlp")
def flat_mlp(cfg: WeightModelConfig, space: WeightSpace, n_out: int) -> WeightModel:
    """The baseline: an MLP on all weights concatenated (not invariant)."""
    size = sum(int(jnp.prod(jnp.asarray(space.shape(t, 1)))) for t in space.tensors)

    def init(key):
        return {"head": _init_dense(key, [size, *cfg.head, n_out])}

    def apply(params, xs):
        flat = jnp.concatenate([x.reshape(x.shape[0], -1) for x in xs], axis=-1)
        return _dense(params["head"], flat)

    return WeightModel(init, apply)
