"""Initial values drawn from a few compiled programs, with ``jax.random``'s bits.

Called eagerly, ``jax.random.normal(key, shape)`` compiles one program per
shape (about a quarter of a second on a CPU: the inverse error function), and
so does every elementwise op after it; a network's initialisation draws dozens
of shapes, so its start-up was mostly compiling. Partitionable threefry (JAX's
default) numbers the elements of a draw, so the first ``n`` elements of a
longer draw are the bits a draw of ``n`` gives, and the normal and uniform
maps and a scale act on each element alone. Each draw here is made at a size
class (a power of two, at least ``MIN_DRAW``), scaled there, and cut to its
shape on the host: the same arrays as ``jax.random`` (tests/nn/test_draws.py)
from one program per size class. Under a trace (``jit``, ``vmap``,
``eval_shape``) there is nothing to cut on the host, and the plain draw is
made instead.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

MIN_DRAW = 4096
"""the smallest size class: every draw up to this many elements shares one program"""


def size_class(n: int) -> int:
    return max(MIN_DRAW, 1 << (n - 1).bit_length())


def _traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def _cut(flat, shape):
    n = math.prod(shape)
    return jax.device_put(np.asarray(flat)[:n].reshape(shape))


def _scaled(x, scale):
    return x if scale is None else x * scale


def normal(key, shape, dtype=jnp.float32, scale=None):
    """``jax.random.normal(key, shape, dtype) * scale`` (``scale`` None: unscaled)."""
    shape = tuple(shape)
    if _traced(key, scale) or math.prod(shape) == 0:
        return _scaled(jax.random.normal(key, shape, dtype), scale)
    return _cut(_scaled(jax.random.normal(key, (size_class(math.prod(shape)),), dtype), scale), shape)


def uniform(key, shape, dtype=jnp.float32, minval=0.0, maxval=1.0):
    """``jax.random.uniform(key, shape, dtype, minval, maxval)``."""
    shape = tuple(shape)
    if _traced(key, minval, maxval) or math.prod(shape) == 0:
        return jax.random.uniform(key, shape, dtype, minval, maxval)
    return _cut(jax.random.uniform(key, (size_class(math.prod(shape)),), dtype, minval, maxval), shape)


def zeros(shape, dtype=jnp.float32):
    """``jnp.zeros(shape, dtype)``, made on the host (no program to compile)."""
    return jax.device_put(np.zeros(shape, dtype))


def ones(shape, dtype=jnp.float32):
    """``jnp.ones(shape, dtype)``, made on the host."""
    return jax.device_put(np.ones(shape, dtype))


def zeros_init(key, shape, dtype=jnp.float32):
    """:func:`zeros` as a flax initialiser."""
    return zeros(shape, dtype)


def ones_init(key, shape, dtype=jnp.float32):
    return ones(shape, dtype)
