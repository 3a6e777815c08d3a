"""Generative metrics over sets, given pairwise distances (HyperDiffusion's
evaluation, after Achlioptas et al. and Yang et al.), and the memorization
check (Zeng et al. 2025).

``d[i, j]`` is the distance from sample i to reference j.
"""
from __future__ import annotations

import numpy as np

from inr.metrics import pairwise_l2


def mmd(d_sr: np.ndarray) -> float:
    """Minimum matching distance: each reference's distance to its closest sample, averaged."""
    return float(d_sr.min(axis=0).mean())


def coverage(d_sr: np.ndarray) -> float:
    """Fraction of references that are some sample's nearest reference."""
    return float(len(np.unique(d_sr.argmin(axis=1))) / d_sr.shape[1])


def one_nna(d_ss: np.ndarray, d_rr: np.ndarray, d_sr: np.ndarray) -> float:
    """Leave-one-out 1-NN accuracy on samples + references (0.5 is ideal)."""
    n, m = d_sr.shape
    full = np.block([[d_ss, d_sr], [d_sr.T, d_rr]]).astype(np.float64)
    np.fill_diagonal(full, np.inf)
    nearest = full.argmin(axis=1)
    is_sample = np.arange(n + m) < n
    return float(np.mean(is_sample == is_sample[nearest]))


def set_metrics(samples: np.ndarray, refs: np.ndarray, distance=pairwise_l2, d_rr: np.ndarray | None = None,
                d_sr: np.ndarray | None = None) -> dict:
    """``d_rr``: the references' own distances, ``d_sr`` the samples' to them, if already known."""
    d_sr = distance(samples, refs) if d_sr is None else d_sr
    d_rr = distance(refs, refs) if d_rr is None else d_rr
    return {"mmd": mmd(d_sr), "cov": coverage(d_sr), "1nna": one_nna(distance(samples, samples), d_rr, d_sr)}


def memorization(samples, train, test, distance=pairwise_l2, d_test: np.ndarray | None = None,
                 d_sample_test: np.ndarray | None = None, seed: int = 0) -> dict:
    """Each sample's distance to its nearest training item against each held-out
    test item's: a generator that copies its training set has samples much
    closer than test items are. ``d_test``: the test items' nearest-training
    distances, ``d_sample_test`` the samples' distances to the test items, if
    already known.

    Nearest distances also shrink for samples that are merely typical (smooth,
    close to the dense middle of the data) without copying anything, so the
    ratio ``train_test_ratio_median`` controls for that: each sample's distance
    to its nearest item in a random training subset as large as the test set,
    over its distance to its nearest test item, the median. Held-out real items
    score about 1. It is a weak detector of copying: only the copied items that
    land in the subset lower it (a copier of random training items out of 8,000
    scores 0.98 against 1.01 for held-out digits), so read it beside the others."""
    d_sample_train = distance(samples, train)
    d_sample = d_sample_train.min(axis=1)
    d_test = distance(test, train).min(axis=1) if d_test is None else d_test
    subset = np.random.default_rng(seed).choice(len(train), min(len(test), len(train)), replace=False)
    to_subset = d_sample_train[:, subset].min(axis=1)
    to_test = (distance(samples, test) if d_sample_test is None else d_sample_test).min(axis=1)
    return {
        "sample_to_train_median": float(np.median(d_sample)),
        "test_to_train_median": float(np.median(d_test)),
        "closer_than_any_test": float(np.mean(d_sample < d_test.min())),
        "closer_than_median_test": float(np.mean(d_sample < np.median(d_test))),
        "train_test_ratio_median": float(np.median(to_subset / np.maximum(to_test, 1e-12))),
        "sample_to_train": d_sample.tolist(),
        "test_to_train": d_test.tolist(),
    }
