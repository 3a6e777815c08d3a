"""A collection as weight-space tensors: layers from the canonical layout,
per-tensor standardization, and augmentations in weight space."""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from inr.fields.model import Field
from inr.weightspace.space import WeightSpace


@dataclass
class WeightData:
    space: WeightSpace
    field: Field  # the fields' model (for probe features)
    tensors: list  # each (N, *hidden, fixed)
    labels: np.ndarray | None
    sources: list[str]


def from_collection(coll) -> WeightData:
    """Tensors of every field of a loaded collection (plain MLP fields only)."""
    space = WeightSpace.of_layout(coll.meta["layout"], "a weight-space model")
    tensors = space.from_flat(jnp.asarray(coll.weights))
    return WeightData(space, coll.field, tensors, coll.labels, [f["source"] for f in coll.fields])


def standardizer(tensors: list, indices) -> list[tuple[float, float]]:
    """(mean, std) of each tensor over the given fields (DWSNets normalises per layer)."""
    return [(float(jnp.mean(t[indices])), float(jnp.std(t[indices]) + 1e-8)) for t in tensors]


def standardize(tensors: list, stats) -> list:
    return [(t - m) / s for t, (m, s) in zip(tensors, stats)]


def permute_batch(space: WeightSpace, key, xs: list) -> list:
    """A random hidden-neuron permutation per example (augmentation; the function each represents is unchanged)."""
    n = xs[0].shape[0]
    perms = {a: jax.vmap(lambda k, d=space.widths[a]: jax.random.permutation(k, d))(jax.random.split(k_a, n))
             for a, k_a in zip(range(1, space.depth), jax.random.split(key, space.depth - 1))}
    out = []
    for x, t in zip(xs, space.tensors):
        for pos, a in enumerate(t.hidden):
            x = jax.vmap(lambda xi, p, ax=pos: jnp.take(xi, p, axis=ax))(x, perms[a])
        out.append(x)
    return out


def transform_inputs(space: WeightSpace, xs: list, rot, zoom, shift) -> list:
    """Raw 2-D field tensors changed so that each new field is ``x -> f((x + t) R s)``:
    ``rot`` (B, 2, 2), ``zoom`` (B,), ``shift`` (B, 2), all through the first layer."""
    layers = space.to_layers(xs, 1)
    w1, b1 = layers[0][0][..., 0], layers[0][1][..., 0]  # (B, d0, d1), (B, d1)
    w1 = jnp.einsum("bij,bjk->bik", rot, w1) * zoom[:, None, None]
    b1 = b1 + jnp.einsum("bj,bjk->bk", shift, w1)
    layers[0] = (w1[..., None], b1[..., None])
    return space.from_layers(layers, 1)


def augment_inputs(space: WeightSpace, key, xs: list, rotation: float = 45.0, translation: float = 0.25,
                   scale: float = 0.2, dropout: float = 0.01) -> list:
    """DWSNets' input-space augmentations of 2-D fields, on raw (not
    standardized) tensors, one draw per example: the field's picture rotated
    by up to ``rotation`` degrees, shifted by up to ``translation`` and zoomed
    by up to ``scale`` (:func:`transform_inputs`), then ``dropout`` of all
    weights zeroed. Fields with another input size are only dropped out."""
    n = xs[0].shape[0]
    k_rot, k_shift, k_scale, k_drop = jax.random.split(key, 4)
    if space.widths[0] == 2:
        angle = jnp.radians(jax.random.uniform(k_rot, (n,), minval=-rotation, maxval=rotation))
        cos, sin = jnp.cos(angle), jnp.sin(angle)
        rot = jnp.stack([jnp.stack([cos, -sin], -1), jnp.stack([sin, cos], -1)], -2)
        zoom = 1.0 + jax.random.uniform(k_scale, (n,), minval=-scale, maxval=scale)
        shift = jax.random.uniform(k_shift, (n, 2), minval=-translation, maxval=translation)
        xs = transform_inputs(space, xs, rot, zoom, shift)
    keep = jax.random.split(k_drop, len(xs))
    return [jnp.where(jax.random.bernoulli(k, 1.0 - dropout, x.shape), x, 0.0) for k, x in zip(keep, xs)]
