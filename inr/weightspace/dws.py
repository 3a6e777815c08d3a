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

A layer is the ``flax.nnx`` module :class:`DWSLinear`. Optionally (DWSNets'
default "SAB" set layer), every map whose input and output share exactly one
matched neuron axis -- a set layer over that layer's
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
from flax import nnx

from inr.learned import dense, scaled_normal
from inr.nn import draws
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


class SetAttention(nnx.Module):
    """Self-attention over a set of neurons, added to a set-layer map:
    ``o = q + attention(q, x K, x V)``, then ``o + ReLU(o O)``, with ``q`` the
    map's linear output ``(B, n, d)`` and ``x`` its input ``(B, n, d_in)``."""

    def __init__(self, d_in: int, d: int, heads: int, rngs: nnx.Rngs):
        self.heads = gcd(heads, d)
        self.K, self.V = dense(d_in, d, rngs, bias=False), dense(d_in, d, rngs, bias=False)
        self.O = dense(d, d, rngs)

    def __call__(self, x, q):
        b, n, d = q.shape
        split = lambda a: a.reshape(b, n, self.heads, d // self.heads)  # noqa: E731
        o = q + jax.nn.dot_product_attention(split(q), split(self.K(x)), split(self.V(x))).reshape(b, n, d)
        return o + jax.nn.relu(self.O(o))


class DWSLinear(nnx.Module):
    """A DWS layer from ``c_in`` to ``c_out`` channels: one linear map per
    block term (kernels normal / sqrt(fan in)), a zero-initialised bias per
    output tensor, and with ``attention`` a :class:`SetAttention` of ``heads``
    heads on every set-layer map; ``pool`` reduces the pooled axes.

    Terms that write the same output tensor with the same matched layers see
    inputs of one shape (batch, matched sizes, channels), so they are
    concatenated along channels and applied as one matmul; each pooled input
    is computed once."""

    def __init__(self, space: WeightSpace, c_in: int, c_out: int, *, attention: bool = False, heads: int = 8,
                 pool: str = "mean", rngs: nnx.Rngs):
        tensors, blocks, kernel = space.tensors, terms(space), scaled_normal()
        self.space, self.pool = space, POOLS.get(pool)
        keys = jax.random.split(rngs.params(), len(blocks))  # one split: a key per term costs a dispatch each
        self.blocks = nnx.List([
            nnx.Param(kernel(key, (tensors[ti].fixed * c_in, tensors[ui].fixed * c_out)))
            for key, (ti, ui, _) in zip(keys, blocks)])
        self.bias = nnx.List([nnx.Param(draws.zeros((u.fixed * c_out,))) for u in tensors])
        self.attention = nnx.List([  # empty without attention
            SetAttention(sum(tensors[ti].fixed * c_in for ti, u, m in blocks if (u, m) == (ui, matched)),
                         tensors[ui].fixed * c_out, heads, rngs) for ui, matched in set_groups(space) if attention])

    def __call__(self, xs: list) -> list:
        """Tensors ``xs`` (each ``(B, *hidden, fixed * C_in)``) -> the layer's output tensors."""
        space, tensors = self.space, self.space.tensors
        pooled, groups = {}, {}
        attention = dict(zip(set_groups(space), self.attention))
        for w, (ti, ui, matched) in zip(self.blocks, terms(space)):
            axes = tuple(1 + p for p, a in enumerate(tensors[ti].hidden) if a not in matched)
            if (ti, axes) not in pooled:
                pooled[ti, axes] = self.pool(xs[ti], axis=axes) if axes else xs[ti]
            groups.setdefault((ui, matched), []).append((pooled[ti, axes], w[...]))
        n = xs[0].shape[0]
        outs = [None] * len(tensors)
        for (ui, matched), items in groups.items():
            x = jnp.concatenate([a for a, _ in items], -1)
            y = x @ jnp.concatenate([w for _, w in items], 0)
            if (ui, matched) in attention:
                y = attention[ui, matched](x, y)
            u = tensors[ui]
            y = y.reshape((n,) + tuple(space.widths[a] if a in matched else 1 for a in u.hidden) + (y.shape[-1],))
            outs[ui] = y if outs[ui] is None else outs[ui] + y  # broadcasts over the unmatched axes
        full = [(n,) + tuple(space.widths[a] for a in u.hidden) for u in tensors]
        return [jnp.broadcast_to(o, shape + o.shape[-1:]) / len(tensors) + b[...]
                for o, shape, b in zip(outs, full, self.bias)]


def channel_norm(xs: list, eps: float = 1e-5) -> list:
    """Standardize each position's channels (pointwise, so equivariant; a
    LayerNorm without scale or bias)."""
    return [jax.nn.standardize(x, axis=-1, epsilon=eps, algorithm="stable") for x in xs]


def invariant_pool(space: WeightSpace, xs: list, pool: str = "mean"):
    """Pool each tensor over its hidden axes (keeping the fixed ones) and
    concatenate: ``(B, sum of fixed * C)``, unchanged by any permutation."""
    reduce = POOLS.get(pool)
    feats = [reduce(x, axis=tuple(range(1, 1 + len(t.hidden)))) if t.hidden else x
             for x, t in zip(xs, space.tensors)]
    return jnp.concatenate(feats, axis=-1)
