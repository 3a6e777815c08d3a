"""DWS layers (Navon et al., "Equivariant Architectures for Learning in Deep
Weight Spaces", ICML 2023): every affine map between weight-space tensors that
commutes with permutations of hidden neurons, built from pooling, per-position
linear maps and broadcasting.

For an input tensor t and an output tensor u, hidden layers touched by t but
not u are pooled, hidden layers touched by u but not t are broadcast, and each
shared hidden layer is either matched position by position or pooled and
broadcast (the only two equivariant maps between two copies of one permuted
axis). One linear map over channels (with the fixed input/output axes folded
in) per choice gives, e.g. for an internal W_i -> W_i, the four terms
lin(W) + lin(row pool) + lin(column pool) + lin(pool both); for W_i -> W_{i+1}
the shared neuron axis is matched and the others pooled/broadcast; and so on
for b -> b, b -> W and W -> b. New tensors are the sum over all input tensors,
divided by their number, plus a bias per output tensor.

Optionally (DWSNets' default "SAB" set layer), every map whose input and
output share exactly one matched neuron axis -- a set layer over that layer's
neurons -- adds multi-head self-attention over the neurons to its linear map,
``o = q + attention(q, k, v)``, ``o + ReLU(o W_o)``, with ``q`` the linear
map's output. Attention over a set commutes with its permutations, so the
layer stays equivariant.
"""
from __future__ import annotations

from itertools import combinations
from math import gcd

import jax
import jax.numpy as jnp

from inr.registry import Registry
from inr.weightspace.space import WeightSpace

POOLS: Registry = Registry("pooling")
POOLS.register("mean", jnp.mean)
POOLS.register("max", jnp.max)


def terms(space: WeightSpace) -> list[tuple[int, int, tuple]]:
    """``(input tensor, output tensor, matched hidden layers)`` of every block term."""
    tensors = space.tensors
    out = []
    for ti, t in enumerate(tensors):
        for ui, u in enumerate(tensors):
            shared = [a for a in t.hidden if a in u.hidden]
            for r in range(len(shared) + 1):
                out.extend((ti, ui, s) for s in combinations(shared, r))
    return out


def set_groups(space: WeightSpace) -> list[tuple[int, tuple]]:
    """``(output tensor, matched layer)`` of the maps that are set layers over
    one hidden layer's neurons (the maps that take attention), in a fixed order."""
    return [g for g in dict.fromkeys((ui, m) for _, ui, m in terms(space)) if len(g[1]) == 1]


def _normal(key, shape):
    return jax.random.normal(key, shape) / jnp.sqrt(shape[0])


def init_linear(key, space: WeightSpace, c_in: int, c_out: int, attention: bool = False) -> dict:
    tensors = space.tensors
    blocks = terms(space)
    k_blocks, k_att = jax.random.split(key)
    weights = []
    for k, (ti, ui, _) in zip(jax.random.split(k_blocks, len(blocks)), blocks):
        weights.append(_normal(k, (tensors[ti].fixed * c_in, tensors[ui].fixed * c_out)))
    params = {"blocks": weights, "bias": [jnp.zeros((u.fixed * c_out,)) for u in tensors]}
    if attention:
        params["attention"] = []
        groups = set_groups(space)
        for k, (ui, matched) in zip(jax.random.split(k_att, len(groups)), groups):
            d_in = sum(tensors[ti].fixed * c_in for ti, u, m in blocks if (u, m) == (ui, matched))
            d = tensors[ui].fixed * c_out
            kk, kv, ko = jax.random.split(k, 3)
            params["attention"].append({"K": _normal(kk, (d_in, d)), "V": _normal(kv, (d_in, d)),
                                        "O": _normal(ko, (d, d)), "b_o": jnp.zeros((d,))})
    return params


def attend(p: dict, x, q, heads: int):
    """Self-attention over a set: ``x`` ``(B, n, C_in)`` the map's input,
    ``q`` ``(B, n, D)`` its linear output; returns ``(B, n, D)``."""
    b, n, d = q.shape
    h = gcd(heads, d)
    split = lambda a: a.reshape(b, n, h, d // h)  # noqa: E731
    logits = jnp.einsum("bnhc,bmhc->bhnm", split(q), split(x @ p["K"])) / jnp.sqrt(d // h)
    o = q + jnp.einsum("bhnm,bmhc->bnhc", jax.nn.softmax(logits, -1), split(x @ p["V"])).reshape(b, n, d)
    return o + jax.nn.relu(o @ p["O"] + p["b_o"])


def linear(params: dict, space: WeightSpace, xs: list, pool: str = "mean", heads: int = 8) -> list:
    """Apply a DWS layer to tensors ``xs`` (each ``(B, *hidden, fixed * C_in)``).

    Terms that write the same output tensor with the same matched layers see
    inputs of one shape (batch, matched sizes, channels), so they are
    concatenated along channels and applied as one matmul; each pooled input
    is computed once. With ``params["attention"]`` (see :func:`init_linear`)
    the set-layer maps add self-attention with ``heads`` heads."""
    tensors, reduce = space.tensors, POOLS.get(pool)
    pooled, groups = {}, {}
    attention = dict(zip(set_groups(space), params["attention"])) if "attention" in params else {}
    for w, (ti, ui, matched) in zip(params["blocks"], terms(space)):
        axes = tuple(1 + p for p, a in enumerate(tensors[ti].hidden) if a not in matched)
        if (ti, axes) not in pooled:
            pooled[ti, axes] = reduce(xs[ti], axis=axes) if axes else xs[ti]
        groups.setdefault((ui, matched), []).append((pooled[ti, axes], w))
    n = xs[0].shape[0]
    outs = [None] * len(tensors)
    for (ui, matched), items in groups.items():
        x = jnp.concatenate([a for a, _ in items], -1)
        y = x @ jnp.concatenate([w for _, w in items], 0)
        if (ui, matched) in attention:
            y = attend(attention[ui, matched], x, y, heads)
        u = tensors[ui]
        y = y.reshape((n,) + tuple(space.widths[a] if a in matched else 1 for a in u.hidden) + (y.shape[-1],))
        outs[ui] = y if outs[ui] is None else outs[ui] + y  # broadcasts over the unmatched axes
    full = [(n,) + tuple(space.widths[a] for a in u.hidden) for u in tensors]
    return [jnp.broadcast_to(o, shape + o.shape[-1:]) / len(tensors) + b
            for o, shape, b in zip(outs, full, params["bias"])]


def channel_norm(xs: list, eps: float = 1e-5) -> list:
    """Standardise each position's channels (pointwise, so equivariant)."""
    out = []
    for x in xs:
        mean = jnp.mean(x, axis=-1, keepdims=True)
        out.append((x - mean) / jnp.sqrt(jnp.var(x, axis=-1, keepdims=True) + eps))
    return out


def invariant_pool(space: WeightSpace, xs: list, pool: str = "mean"):
    """Pool each tensor over its hidden axes (keeping the fixed ones) and
    concatenate: ``(B, sum of fixed * C)``, unchanged by any permutation."""
    reduce = POOLS.get(pool)
    feats = [reduce(x, axis=tuple(range(1, 1 + len(t.hidden)))) if t.hidden else x
             for x, t in zip(xs, space.tensors)]
    return jnp.concatenate(feats, axis=-1)
