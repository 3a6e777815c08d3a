"""Evaluating generated fields against a reference collection.

Each modality decodes fields into items compared by a distance: images into
pixels on their signal's grid (pixel L2), shapes into normalised surface
point clouds (Chamfer). Reports MMD, COV and 1-NNA against held-out
references and the memorization check against the training fields; for
labelled images also a classifier's view: the fraction of samples it labels
with confidence >= 0.9, and the entropy of its predicted-class histogram.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr.diffusion.clouds import chamfer_matrix, field_clouds
from inr.diffusion.metrics import memorization, pairwise_l2, set_metrics
from inr.fields.evaluate import evaluate_points
from inr.fields.layout import unflatten
from inr.grid import grid
from inr.registry import Registry


def decode_images(field, weights: np.ndarray, meta: dict, batch: int = 256) -> np.ndarray:
    """Flat weight vectors -> pixel vectors (N, H*W*C) in [0, 1]."""
    template = field.init(jax.random.PRNGKey(0))
    coords = jnp.asarray(grid(tuple(meta["signal"]["shape"])).reshape(-1, 2))
    norm = meta["normalisation"]

    def decode(_, ws):
        out = jax.vmap(lambda w: field.apply(unflatten(w, template), coords))(ws)
        return ((out - norm["offset"]) / norm["scale"]).reshape(len(ws), -1)

    return np.clip(evaluate_points(decode, None, weights, batch), 0.0, 1.0)


def train_digit_classifier(pixels: np.ndarray, labels: np.ndarray, steps: int = 2000, seed: int = 0):
    """A small MLP on pixels; returns ``predict_proba(pixels) -> (N, classes)``."""
    n_classes = int(labels.max()) + 1
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    d = pixels.shape[1]
    params = {"W1": jax.random.normal(k1, (d, 256)) * np.sqrt(2 / d), "b1": jnp.zeros(256),
              "W2": jax.random.normal(k2, (256, n_classes)) * np.sqrt(1 / 256), "b2": jnp.zeros(n_classes)}

    def logits(p, x):
        return jax.nn.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]

    opt = optax.adamw(1e-3, weight_decay=1e-4)
    x_all, y_all = jnp.asarray(pixels), jnp.asarray(labels)

    @jax.jit
    def run(params):
        def body(carry, i):
            p, s = carry
            idx = jax.random.randint(jax.random.fold_in(jax.random.PRNGKey(seed + 1), i), (128,), 0, len(y_all))
            loss, g = jax.value_and_grad(lambda q: jnp.mean(
                optax.softmax_cross_entropy_with_integer_labels(logits(q, x_all[idx]), y_all[idx])))(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), loss

        return jax.lax.scan(body, (params, opt.init(params)), jnp.arange(steps))[0][0]

    params = run(params)
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
class Evaluation:
    decode: Callable  # (field, weights (N, P), meta) -> items (N, ...)
    distance: Callable  # (items a, items b) -> (len a, len b)
    describe: Callable = lambda items: {}  # extra facts about decoded samples
    classifier: Callable | None = None  # (train items, labels) -> predict_proba, where labels exist


EVALUATIONS: Registry = Registry("evaluation of generated fields")
EVALUATIONS.register("image", Evaluation(decode_images, pairwise_l2, classifier=train_digit_classifier))
EVALUATIONS.register("sdf", Evaluation(
    field_clouds, chamfer_matrix,
    describe=lambda clouds: {"empty_fraction": float(np.mean(np.all(clouds == 0, axis=(1, 2))))}))


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


def references(ev: Evaluation, train: np.ndarray, test: np.ndarray) -> References:
    return References(train, test, ev.distance(test, test), ev.distance(test, train))


def evaluate_items(ev: Evaluation, samples: np.ndarray, refs: References, classifier=None) -> dict:
    """All metrics for decoded samples against the decoded train and test sets."""
    d_sr = ev.distance(samples, refs.test)
    out = {"samples": len(samples), "references": len(refs.test), **ev.describe(samples),
           **set_metrics(samples, refs.test, ev.distance, refs.test_test, d_sr)}
    mem = memorization(samples, refs.train, refs.test, ev.distance, refs.test_to_train, d_sr)
    out["memorization"] = {k: v for k, v in mem.items() if not isinstance(v, list)}
    if classifier is not None:
        out["classifier"] = classifier_view(classifier(samples))
    return out
