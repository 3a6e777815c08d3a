"""Evaluating generated fields against a reference collection.

The modality decodes fields into comparable items and gives their distance
(``Modality.comparable`` / ``distance``): images into pixels on their
signal's grid (pixel L2), audio into waveforms (L2), shapes into normalised
surface point clouds (Chamfer). Reports MMD, COV and 1-NNA against held-out
references and the memorization check against the training fields; for
labelled collections of fixed-size items (``Modality.classifiable``) also a classifier's view: the fraction of samples it labels
with confidence >= 0.9, and the entropy of its predicted-class histogram.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from inr.diffusion.metrics import memorization, set_metrics
from inr.learned import dense, functional, relu_mlp
from inr.train.config import TrainConfig
from inr.train.fit import fit, start_state
from inr.train.optim import make_optimizer


class PixelClassifier(nnx.Module):
    """One hidden ReLU layer of 256 units on pixels (He normal, then normal / sqrt(256))."""

    def __init__(self, d: int, n_classes: int, rngs: nnx.Rngs):
        self.layers = nnx.List([dense(d, 256, rngs, 2 ** 0.5), dense(256, n_classes, rngs)])

    def __call__(self, x):
        return relu_mlp(self.layers, x)


def train_digit_classifier(pixels: np.ndarray, labels: np.ndarray, steps: int = 2000, seed: int = 0):
    """A small MLP on pixels; returns ``predict_proba(pixels) -> (N, classes)``."""
    n_classes = int(labels.max()) + 1
    net = functional(lambda rngs: PixelClassifier(pixels.shape[1], n_classes, rngs))
    params, logits = net.init(jax.random.PRNGKey(seed)), net.apply

    def loss(p, data, key):
        idx = jax.random.randint(key, (128,), 0, data["y"].shape[0])
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits(p, data["x"][idx]), data["y"][idx]))

    train = TrainConfig(steps=steps, optimizer="adamw", lr=1e-3, weight_decay=1e-4, schedule="constant",
                        steps_per_call=steps, checkpoint_every=steps)
    state = fit(loss, start_state(params, make_optimizer(train), train), {"x": jnp.asarray(pixels),
                "y": jnp.asarray(labels)}, train, key=jax.random.PRNGKey(seed + 1), quiet=True, desc="classifier")
    params = state.params
    return lambda x: np.asarray(jax.nn.softmax(logits(params, jnp.asarray(x)), -1))


def classifier_view(proba: np.ndarray, confident: float = 0.9) -> dict:
    pred = proba.argmax(1)
    hist = np.bincount(pred, minlength=proba.shape[1]) / len(pred)
    nz = hist[hist > 0]
    return {"confident_fraction": float(np.mean(proba.max(1) >= confident)),
            "class_entropy": float(-(nz * np.log(nz)).sum()) + 0.0,  # no "-0.0"
            "max_entropy": float(np.log(proba.shape[1])),
            "classes_present": int((hist > 0).sum()),
            "class_histogram": hist.tolist()}


@dataclass(frozen=True)
class References:
    """Decoded training and test items, and the distances among them that every
    generator is scored against (computed once, not per generator)."""
    train: np.ndarray
    test: np.ndarray
    test_test: np.ndarray  # (n_test, n_test)
    test_train: np.ndarray  # (n_test, n_train)

    @property
    def test_to_train(self) -> np.ndarray:
        """(n_test,) each test item's nearest training distance."""
        return self.test_train.min(axis=1)


def references(modality, train: np.ndarray, test: np.ndarray) -> References:
    return References(train, test, modality.distance(test, test), modality.distance(test, train))


def evaluate_items(modality, samples: np.ndarray, refs: References, classifier=None) -> dict:
    """All metrics for decoded samples against the decoded train and test sets
    (``modality`` gives the distance and what to describe)."""
    d_sr = modality.distance(samples, refs.test)
    out = {"samples": len(samples), "references": len(refs.test), **modality.describe(samples),
           **set_metrics(samples, refs.test, modality.distance, refs.test_test, d_sr)}
    mem = memorization(samples, refs.train, refs.test, modality.distance, refs.test_to_train, d_sr)
    out["memorization"] = {k: v for k, v in mem.items() if not isinstance(v, list)}
    if classifier is not None:
        out["classifier"] = classifier_view(classifier(samples))
    return out
