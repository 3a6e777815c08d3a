"""The canonical weight layout: MLP layers as ``(W, b)`` in depth order.

The flat vector is the parameters in that order (``W_0, b_0, W_1, b_1, ...``,
each row-major), which is also ``ravel_pytree``'s order for our params pytree;
:func:`layout` describes it (name, shape, offset) for JSON metadata so any
framework can slice a flat vector back into layers.
"""
from __future__ import annotations

import numpy as np
from jax.flatten_util import ravel_pytree

from inr.io import tree_entries


def layout(params) -> list[dict]:
    """Name, shape and offset of every parameter in the flat vector."""
    out, offset = [], 0
    for name, leaf in tree_entries(params):
        size = int(np.prod(leaf.shape))
        out.append({"name": name, "shape": list(leaf.shape), "offset": offset})
        offset += size
    return out


def flatten(params):
    """Params pytree -> 1-D vector in canonical order."""
    return ravel_pytree(params)[0]


def unflatten(vector, template):
    """1-D vector -> params pytree shaped like ``template``."""
    return ravel_pytree(template)[1](vector)


def mlp_layers(params) -> list[tuple]:
    """The ``[(W, b), ...]`` list in depth order."""
    return [(layer["W"], layer["b"]) for layer in params["mlp"]]


def from_mlp_layers(layers, params=None) -> dict:
    """Put ``[(W, b), ...]`` back into a params pytree (other entries kept)."""
    out = dict(params or {})
    out["mlp"] = [{"W": w, "b": b} for w, b in layers]
    return out
