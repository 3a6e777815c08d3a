"""A collection as weight-space tensors: layers from the canonical layout,
per-tensor standardization, and augmentations in weight space."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from inr.fields.model import Field
from inr.weightspace.space import WeightSpace


@dataclass
class WeightData:
    space: WeightSpace
    field: Field  # the fields' model (for probe features and rendering)
    tensors: list  # each (N, *hidden, fixed)
    labels: np.ndarray | None
    sources: list[str]
    meta: dict  # the collection's manifest (modality, signal shape, normalization)
    root: Path  # the collection's directory


def from_collection(coll, root) -> WeightData:
    """Tensors of every field of a collection loaded from ``root`` (plain MLP fields only)."""
    space = WeightSpace.of_layout(coll.meta["layout"], "a weight-space model")
    tensors = space.from_flat(jnp.asarray(coll.weights))
    return WeightData(space, coll.field, tensors, coll.labels, [f["source"] for f in coll.fields], coll.meta,
                      Path(root))


def batched(fn, params, xs: list, batch: int = 256) -> np.ndarray:
    """``fn(params, tensors)`` over every example in fixed-size batches (the
    last one padded, so a jitted ``fn`` compiles once), concatenated."""
    n = xs[0].shape[0]
    outs = []
    for s in range(0, n, batch):
        part = [x[s:s + batch] for x in xs]
        pad = batch - part[0].shape[0]
        if pad:
            part = [jnp.concatenate([p, jnp.repeat(p[-1:], pad, axis=0)]) for p in part]
        outs.append(np.asarray(fn(params, part))[: batch - pad])
    return np.concatenate(outs)


def standardizer(tensors: list, indices, center: bool = True) -> list[tuple[float, float]]:
    """(mean, std) of each tensor over the given fields (DWSNets normalises per
    layer); without ``center`` the mean is 0 and the scale the root mean square,
    so that a sign flip of raw weights is a sign flip of standardized ones."""
    if not center:
        return [(0.0, float(jnp.sqrt(jnp.mean(jnp.square(t[indices]))) + 1e-8)) for t in tensors]
    return [(float(jnp.mean(t[indices])), float(jnp.std(t[indices]) + 1e-8)) for t in tensors]


def standardize(tensors: list, stats) -> list:
    return [(t - m) / s for t, (m, s) in zip(tensors, stats)]


def unstandardize(tensors: list, stats) -> list:
    """The raw weights of standardized ``tensors`` (the inverse of :func:`standardize`)."""
    return [t * s + m for t, (m, s) in zip(tensors, stats)]


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


def flip_signs(space: WeightSpace, key, xs: list) -> list:
    """Raw tensors with every hidden neuron's sign flipped at random (its
    incoming weights, bias and outgoing weights together), one draw per
    example: for fields with an odd activation (sine) the same functions."""
    n = xs[0].shape[0]
    layers = space.to_layers(xs, 1)
    keys = jax.random.split(key, space.depth - 1)
    signs = {a: jnp.where(jax.random.bernoulli(k, 0.5, (n, space.widths[a], 1)), -1.0, 1.0)
             for a, k in zip(range(1, space.depth), keys)}
    out = []
    for i, (w, b) in enumerate(layers, start=1):
        if i - 1 in signs:
            w = w * signs[i - 1][:, :, None]
        if i in signs:
            w, b = w * signs[i][:, None], b * signs[i]
        out.append((w, b))
    return space.from_layers(out, 1)


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
                   scale: float = 0.2, dropout: float = 0.01, strength: float = 1.0) -> list:
    """DWSNets' input-space augmentations of 2-D fields, on raw (not
    standardized) tensors, one draw per example: the field's picture rotated
    by up to ``rotation`` degrees, shifted by up to ``translation`` and zoomed
    by up to ``scale`` (:func:`transform_inputs`; all three times ``strength``),
    then ``dropout`` of all weights zeroed. Fields with another input size are
    only dropped out."""
    rotation, translation, scale = rotation * strength, translation * strength, scale * strength
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
