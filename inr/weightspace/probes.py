"""Probe features (Kofinas et al., ICLR 2024, "Graph Neural Networks for
Learning Equivariant Representations of Neural Networks"): every field is
run at a few input points and each neuron's activations there become that
neuron's features. Permuting a hidden layer's neurons permutes its features
the same way, so a DWSNet can read them and stay equivariant."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp

from inr.fields.layout import from_mlp_layers
from inr.fields.model import Field
from inr.weightspace.data import unstandardize
from inr.weightspace.space import WeightSpace


@dataclass(frozen=True)
class Probe:
    in_dim: int
    """dimension of the fields' input points"""
    run: Callable
    """``(coords (P, in_dim), standardized tensors) -> [(B, d_i, P) for i = 1..L]``"""


def make_probe(field: Field, space: WeightSpace, stats) -> Probe:
    """Activations of each field at the probe points, from its standardized
    tensors (``stats``: the per-tensor ``(mean, std)`` they were standardized
    with). The caller checks that ``field`` has the widths of ``space``."""

    def probe(coords, xs):
        params = from_mlp_layers([(w[..., 0], b[..., 0]) for w, b in space.to_layers(unstandardize(xs, stats), 1)])
        acts = jax.vmap(field.activations, in_axes=(0, None))(params, coords)
        return [jnp.swapaxes(a, 1, 2) for a in acts]

    return Probe(field.in_dim, probe)
