"""Splitting a collection into train / validation / test by signal, so that
every fit of one signal lands in the same part (weight-space training and
weight diffusion share it)."""
from __future__ import annotations

import numpy as np

from inr.errors import InrError


def split_by_signal(sources: list[str], fractions, seed: int) -> dict[str, np.ndarray]:
    """Field indices for train/val/test; all fits of one signal land in the same part."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise InrError(f"split must be three fractions summing to 1 (got {fractions})")
    unique = list(dict.fromkeys(sources))  # first-appearance order
    order = np.random.default_rng(seed).permutation(len(unique))
    n_train = int(round(fractions[0] * len(unique)))
    n_val = int(round(fractions[1] * len(unique)))
    part_of = {}
    for rank, u in enumerate(order):
        part_of[unique[u]] = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
    return {name: np.asarray([i for i, s in enumerate(sources) if part_of[s] == name], np.int64)
            for name in ("train", "val", "test")}
