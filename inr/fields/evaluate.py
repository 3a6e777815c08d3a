"""Evaluate a field on a large grid in fixed-size chunks (bounded memory, one compile)."""
from __future__ import annotations

from typing import Callable

import jax
import numpy as np

from inr.grid import grid


def evaluate_points(apply: Callable, params, coords: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """``apply(params, coords)`` over ``coords`` of shape ``(N, d)`` in chunks."""
    coords = np.asarray(coords, np.float32)
    n = coords.shape[0]
    chunk = max(1, min(chunk, n))
    fn = jax.jit(apply)
    outs = []
    for start in range(0, n, chunk):
        part = coords[start:start + chunk]
        pad = chunk - part.shape[0]
        if pad:
            part = np.concatenate([part, np.repeat(part[-1:], pad, axis=0)])
        outs.append(np.asarray(fn(params, part))[: chunk - pad])
    return np.concatenate(outs, axis=0)


def evaluate_grid(apply: Callable, params, shape, chunk: int = 65536) -> np.ndarray:
    """The field sampled at the centres of an array of ``shape`` -> ``shape + (out_dim,)``."""
    coords = grid(shape).reshape(-1, len(shape))
    out = evaluate_points(apply, params, coords, chunk)
    return out.reshape(*shape, -1)
