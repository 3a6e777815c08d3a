"""The coordinate MLP: a list of ``{"W": (n_in, n_out), "b": (n_out,)}`` layers.

This list, in depth order, is the canonical weight layout that collections and
weight-space models read.
"""
from __future__ import annotations

from typing import Callable, Sequence

import jax

from inr.nn import draws
from inr.nn.initializers import INITIALIZERS, LayerContext


def init_mlp(key, widths: Sequence[int], init: str, scales: Sequence[float], first_bias: float = 0.0) -> list[dict]:
    """Layers for ``widths`` (input, hidden..., output). ``first_bias > 0``
    draws the first layer's biases from U(-first_bias, first_bias) (FINER)."""
    init_fn = INITIALIZERS.get(init)
    n_layers = len(widths) - 1
    keys = jax.random.split(key, n_layers)
    layers = []
    for i in range(n_layers):
        ctx = LayerContext(index=i, n_layers=n_layers, omega0=scales[min(i, len(scales) - 1)])
        w, b = init_fn(keys[i], widths[i], widths[i + 1], ctx)
        if i == 0 and first_bias > 0:
            b = draws.uniform(jax.random.fold_in(keys[i], 1), b.shape, b.dtype, -first_bias, first_bias)
        layers.append({"W": w, "b": b})
    return layers


def mlp_activations(layers: list[dict], x, act: Callable, scales: Sequence[float], out_act: Callable,
                    modulate: Callable | None = None) -> list:
    """Every layer's output in depth order: hidden layers ``act(x W + b, scale_i)``,
    then the linear last layer through ``out_act``.

    ``modulate(i, h)``, if given, transforms hidden layer i's pre-activation."""
    outs = []
    for i, (layer, scale) in enumerate(zip(layers[:-1], scales)):
        h = x @ layer["W"] + layer["b"]
        x = act(modulate(i, h) if modulate is not None else h, scale)
        outs.append(x)
    last = layers[-1]
    return outs + [out_act(x @ last["W"] + last["b"])]
