"""Evaluate a field on a large grid in fixed-size chunks (bounded memory, one compile)."""
from __future__ import annotations

from typing import Callable

import jax
import numpy as np

from inr.fields.io import params_template
from inr.fields.layout import unflatten
from inr.grid import grid


def pad_rows(rows: np.ndarray, size: int) -> np.ndarray:
    """``rows`` padded to ``size`` rows by repeating the last, so every chunk has one compiled shape."""
    pad = size - len(rows)
    return np.concatenate([rows, np.repeat(rows[-1:], pad, axis=0)]) if pad else rows


def evaluate_points(apply: Callable, params, coords: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """``apply(params, coords)`` over ``coords`` of shape ``(N, d)`` in chunks
    (any rows ``apply`` maps one to one, e.g. a batch of flat weight vectors)."""
    coords = np.asarray(coords, np.float32)
    n = coords.shape[0]
    chunk = max(1, min(chunk, n))
    fn = jax.jit(apply)
    outs = []
    for start in range(0, n, chunk):
        part = coords[start:start + chunk]
        outs.append(np.asarray(fn(params, pad_rows(part, chunk)))[: len(part)])
    return np.concatenate(outs, axis=0)


def evaluate_grid(apply: Callable, params, shape, chunk: int = 65536) -> np.ndarray:
    """The field sampled at the centres of an array of ``shape`` -> ``shape + (out_dim,)``."""
    coords = grid(shape).reshape(-1, len(shape))
    out = evaluate_points(apply, params, coords, chunk)
    return out.reshape(*shape, -1)


def evaluate_fields_on_grid(field, weights: np.ndarray, shape, batch: int = 256) -> np.ndarray:
    """Many fields, as flat weight vectors ``(N, P)``, each sampled at the
    centres of an array of ``shape`` -> ``(N, prod(shape) * out_dim)``;
    ``batch`` fields per compiled call."""
    template = params_template(field)
    coords = jax.numpy.asarray(grid(tuple(shape)).reshape(-1, len(shape)))

    def decode(_, ws):
        return jax.vmap(lambda w: field.apply(unflatten(w, template), coords).reshape(-1))(ws)

    return evaluate_points(decode, None, weights, batch)
