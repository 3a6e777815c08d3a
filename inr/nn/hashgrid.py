"""Multiresolution hash encoding (Mueller et al. 2022, Instant-NGP).

Level l has resolution N_l = floor(N_min * b^l), b = (N_max / N_min)^(1/(L-1)).
Its vertices index a table of min(T, (N_l + 1)^d) rows of F features: densely
when the grid fits, else by the spatial hash (XOR_i c_i pi_i) mod T. A point's
features are the d-linear interpolation of its cell's 2^d corners; the levels'
features are concatenated.

With ``probes`` P > 1 a hashed level sums the rows of P hash functions at
every vertex (probe 0 is the spatial hash above; probe k passes it, offset
by k times the golden-ratio constant, through MurmurHash3's 32-bit
finaliser): two vertices that share one row rarely share the others, so
the same table holds a signal with fewer collisions. Dense levels have no
collisions and take one row.
"""
from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np

from inr.errors import InrError
from inr.nn.encodings import ENCODINGS, Encoding, HashEncoding

PRIMES = (1, 2654435761, 805459861, 3674653429)


def level_resolutions(cfg: HashEncoding) -> list[int]:
    if cfg.levels == 1:
        return [cfg.base_resolution]
    growth = math.exp((math.log(cfg.max_resolution) - math.log(cfg.base_resolution)) / (cfg.levels - 1))
    return [int(math.floor(cfg.base_resolution * growth**lvl)) for lvl in range(cfg.levels)]


def table_sizes(cfg: HashEncoding, in_dim: int) -> list[int]:
    cap = cfg.table_size or 2**cfg.log2_table_size
    return [min(cap, (n + 1) ** in_dim) for n in level_resolutions(cfg)]


def is_dense(res: int, size: int, in_dim: int) -> bool:
    return (res + 1) ** in_dim <= size


def fmix32(h):
    """MurmurHash3's 32-bit finaliser: every input bit flips each output bit with probability about 1/2."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def vertex_index(corner, res: int, size: int, in_dim: int, probe: int = 0):
    """Table row of integer vertex coordinates ``corner`` (..., d) at one level, by hash function ``probe``."""
    if is_dense(res, size, in_dim):
        strides = jnp.asarray([(res + 1) ** i for i in range(in_dim)], jnp.uint32)
        return jnp.sum(corner.astype(jnp.uint32) * strides, axis=-1)
    h = jnp.zeros(corner.shape[:-1], jnp.uint32)
    for i in range(in_dim):
        h = h ^ (corner[..., i].astype(jnp.uint32) * jnp.uint32(PRIMES[i]))
    if probe:
        h = fmix32(h + jnp.uint32((probe * 0x9E3779B9) & 0xFFFFFFFF))
    return h & jnp.uint32(size - 1) if size & (size - 1) == 0 else h % jnp.uint32(size)


@ENCODINGS.register("hash")
def hash_grid(cfg: HashEncoding, in_dim: int) -> Encoding:
    if cfg.table_size < 0:
        raise InrError(f"model.encoding.table_size must be >= 0 (got {cfg.table_size})")
    if cfg.probes < 1:
        raise InrError(f"model.encoding.probes must be >= 1 (got {cfg.probes})")
    resolutions = level_resolutions(cfg)
    sizes = table_sizes(cfg, in_dim)
    corners = np.array(list(itertools.product((0, 1), repeat=in_dim)), np.int32)  # (2^d, d)

    @jax.jit
    def init(key):
        # Every level draws the largest table's shape and keeps its own first rows: partitionable threefry
        # (JAX's default) numbers the elements, so those are the bits a draw of the level's own size gives
        # (tests/nn/test_hashgrid.py), from one compiled kernel instead of one per table size (seconds per
        # fit on a CPU). Peak memory: up to twice the tables as they would be if every level had the largest
        # size (the draw, then the levels' rows). inr.nn.draws level by level gives the same bits but compiles
        # one program per size class: 0.5-1.1 s slower for the built-in defaults' fields (2-core AMD EPYC).
        keys = jax.random.split(key, cfg.levels)
        full = jax.vmap(lambda k: jax.random.uniform(k, (max(sizes), cfg.features_per_level), jnp.float32,
                                                     -1e-4, 1e-4))(keys)
        return {"tables": [full[i, :size] for i, size in enumerate(sizes)]}

    def fn(buffers, params, x):
        v = jnp.clip((x + 1.0) * 0.5, 0.0, 1.0)
        out = []
        for table, res, size in zip(params["tables"], resolutions, sizes):
            pos = v * res
            base = jnp.minimum(jnp.floor(pos), res - 1)
            frac = pos - base
            idx = base.astype(jnp.int32)[..., None, :] + corners  # (N, 2^d, d)
            w = jnp.prod(jnp.where(corners == 1, frac[..., None, :], 1.0 - frac[..., None, :]), axis=-1)
            probes = 1 if is_dense(res, size, in_dim) else cfg.probes
            feats = sum(table[vertex_index(idx, res, size, in_dim, k)] for k in range(probes))
            out.append(jnp.sum(feats * w[..., None], axis=-2))
        return jnp.concatenate(out, axis=-1)

    return Encoding(cfg.levels * cfg.features_per_level, fn, init=init)
