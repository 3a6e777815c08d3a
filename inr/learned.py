"""The networks that learn on weights or pixels are ``flax.nnx`` modules; the
one training loop (inr/train/fit.py) and the persistence layer (inr/io.py)
see each as a pair of pure functions over a plain parameter tree:
``init(key) -> params`` and ``apply(params, *args)``.

The tree is ``nnx.to_pure_dict`` of the module's state (nested dicts of
arrays, list items under integer keys), so it is checkpointed, averaged (EMA)
and saved like a field's parameters; ``apply`` merges it back into the
module's graph, which is built once, abstractly.

A weight-space model of one's own: an ``nnx.Module`` whose ``__call__`` takes
the weight-space tensors, registered in ``WEIGHT_MODELS`` through
:func:`functional` (see inr/weightspace/models.py).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from inr.nn import draws


class Functional(NamedTuple):
    init: Callable
    """``(key) -> params``, the module's state as a plain tree"""
    apply: Callable
    """``(params, *args) -> output``: the module with ``params`` called on ``args``"""
    template: dict
    """the tree ``init`` returns, as shapes and dtypes (``jax.ShapeDtypeStruct`` leaves)"""


def functional(build: Callable[[nnx.Rngs], nnx.Module]) -> Functional:
    """Pure ``init`` / ``apply`` of the module ``build(rngs)`` makes."""
    graph, state = nnx.split(nnx.eval_shape(lambda: build(nnx.Rngs(0))))

    def init(key):
        return nnx.to_pure_dict(nnx.state(build(nnx.Rngs(key))))

    def apply(params, *args):
        return nnx.merge(graph, params)(*args)

    return Functional(init, apply, nnx.to_pure_dict(state))


def scaled_normal(scale: float = 1.0):
    """Kernel init ``normal * scale / sqrt(fan_in)``, untruncated: JAX's
    ``variance_scaling(scale ** 2, "fan_in", "normal")`` (the same arrays; fan-in
    is the second-last axis times the axes before it), drawn through
    :mod:`inr.nn.draws`."""

    def init(key, shape, dtype=jnp.float32):
        fan_in = shape[-2] * math.prod(shape[:-2])
        return draws.normal(key, shape, dtype, scale=jnp.sqrt(jnp.array(scale ** 2 / fan_in, dtype)))

    return init


def dense(n_in: int, n_out: int, rngs: nnx.Rngs, scale: float = 1.0, bias: bool = True) -> nnx.Linear:
    """A linear layer with :func:`scaled_normal` kernels and zero biases
    (``scale = sqrt(2)``: He normal)."""
    return nnx.Linear(n_in, n_out, use_bias=bias, kernel_init=scaled_normal(scale), bias_init=draws.zeros_init,
                      rngs=rngs)


def layer_norm(d: int, rngs: nnx.Rngs, epsilon: float = 1e-6) -> nnx.LayerNorm:
    """A LayerNorm over ``d`` channels, its variance computed as E[(x - mean)^2]."""
    return nnx.LayerNorm(d, epsilon=epsilon, use_fast_variance=False, scale_init=draws.ones_init,
                         bias_init=draws.zeros_init, rngs=rngs)


def relu_mlp(layers, x):
    """``layers`` (linear maps) in turn, ReLU between them."""
    for i, layer in enumerate(layers):
        x = layer(x)
        if i < len(layers) - 1:
            x = jax.nn.relu(x)
    return x


V1_LEAVES = {"W": "kernel", "b": "bias", "g": "scale", "K": "K.kernel", "V": "V.kernel", "O": "O.kernel",
             "b_o": "O.bias"}
"""leaf names of the hand-written networks' files (format version 1) and the
flax layer attribute each is now"""


def v1_name(name: str) -> str:
    """The name a version-1 array has in today's tree (``head.0.W`` -> ``head.0.kernel``)."""
    *path, leaf = name.split(".")
    return ".".join(path + [V1_LEAVES.get(leaf, leaf)])


def read_params(f, prefix: str, net: Functional, format_version: int):
    """``net``'s parameters under ``prefix`` of the open weight file ``f``
    (:func:`inr.io.open_tree`), matched to the module's tree by name and shape;
    files of format version 1 (the hand-written networks) by their old names."""
    return f.tree(prefix, net.template, v1_name if format_version < 2 else None)
