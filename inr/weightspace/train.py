"""Training a weight-space classifier on a collection's fields."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from inr.errors import DivergedError, InrError
from inr.weightspace.data import WeightData, augment_inputs, permute_batch, split_by_signal, standardise, standardiser
from inr.weightspace.models import WEIGHT_MODELS, WeightModelConfig
from inr.weightspace.probes import make_probe


@dataclass
class WeightTrainConfig:
    task: str = "classify"
    """classify: predict each field's label"""
    seed: int = 0
    """seed of the split, the initialisation and the batches"""
    split: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    """train/val/test fractions of the signals (all fits of a signal stay together)"""
    model: WeightModelConfig = field(default_factory=WeightModelConfig)
    steps: int = 4000
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    augment: bool = False
    """random hidden-neuron permutations of each training example"""
    input_augment: bool = False
    """DWSNets' input-space augmentations of 2-D fields: rotation (45 deg), shift (0.25), zoom (20%), 1% dropout"""
    schedule_warmup: int = 200
    """steps of linear lr warm-up before the cosine decay (at most half of the steps)"""
    eval_every: int = 250
    """validation accuracy every N steps; the best validation weights are kept"""


def predict(apply, params, xs, batch: int = 256) -> np.ndarray:
    """Predicted class of every example, in fixed-size batches (the last one
    padded, so ``apply`` compiles once)."""
    n = xs[0].shape[0]
    preds = []
    for s in range(0, n, batch):
        part = [x[s:s + batch] for x in xs]
        pad = batch - part[0].shape[0]
        if pad:
            part = [jnp.concatenate([p, jnp.repeat(p[-1:], pad, axis=0)]) for p in part]
        preds.append(np.asarray(jnp.argmax(apply(params, part), -1))[: batch - pad])
    return np.concatenate(preds) if preds else np.zeros((0,), np.int64)


def train_classifier(cfg: WeightTrainConfig, data: WeightData, quiet: bool = False) -> dict:
    """Fit a classifier; return params, the split, standardisation and metrics."""
    if data.labels is None:
        raise InrError("classification needs labels; this collection has fields without one")
    splits = split_by_signal(data.sources, cfg.split, cfg.seed)
    if len(splits["train"]) == 0 or len(splits["val"]) == 0:
        raise InrError(f"split {cfg.split}: too few signals for a train and a validation set")
    stats = standardiser(data.tensors, splits["train"])
    xs = standardise(data.tensors, stats)
    raw = data.tensors
    labels = np.asarray(data.labels)
    n_classes = int(labels.max()) + 1
    model = WEIGHT_MODELS.get(cfg.model.name)(cfg.model, data.space, n_classes,
                                              make_probe(data.field, data.space, stats))
    key = jax.random.PRNGKey(cfg.seed)
    params = model.init(jax.random.fold_in(key, 0))
    warmup = min(cfg.schedule_warmup, cfg.steps // 2)
    schedule = optax.warmup_cosine_decay_schedule(0.0, cfg.lr, warmup, max(cfg.steps, 1)) \
        if warmup else optax.cosine_decay_schedule(cfg.lr, max(cfg.steps, 1))
    opt = optax.adamw(schedule, weight_decay=cfg.weight_decay)
    opt_state = opt.init(params)
    # input augmentation acts on raw weights, so the training tensors are standardised per batch
    train_x = [x[splits["train"]] for x in (raw if cfg.input_augment else xs)]
    train_y = jnp.asarray(labels[splits["train"]])

    @jax.jit
    def step(params, opt_state, i, train_x, train_y):  # data as arguments: closed-over arrays get constant-folded
        k = jax.random.fold_in(key, i + 1)
        idx = jax.random.randint(k, (cfg.batch_size,), 0, train_y.shape[0])
        batch = [x[idx] for x in train_x]
        if cfg.input_augment:
            batch = standardise(augment_inputs(data.space, jax.random.fold_in(k, 2), batch), stats)
        if cfg.augment:
            batch = permute_batch(data.space, jax.random.fold_in(k, 1), batch)

        def loss_fn(p):
            logits = model.apply(p, batch)
            return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, train_y[idx]))

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    apply = jax.jit(model.apply)
    val_x, val_y = [x[splits["val"]] for x in xs], labels[splits["val"]]
    best = (-1.0, params, 0)
    history = []
    t0 = time.perf_counter()
    bar = tqdm(range(cfg.steps), disable=quiet, desc=f"train {cfg.model.name}", unit="step", dynamic_ncols=True)
    for i in bar:
        params, opt_state, loss = step(params, opt_state, i, train_x, train_y)
        if (i + 1) % cfg.eval_every == 0 or i + 1 == cfg.steps:
            if not np.isfinite(float(loss)):
                raise DivergedError(f"weight-space training diverged at step {i + 1}; try a lower lr")
            acc = float(np.mean(predict(apply, params, val_x) == val_y))
            history.append({"step": i + 1, "seconds": time.perf_counter() - t0, "loss": float(loss),
                            "val_accuracy": acc})
            bar.set_postfix(loss=f"{float(loss):.3f}", val=f"{acc:.3f}")
            if acc > best[0]:
                best = (acc, params, i + 1)
    params = best[1]
    metrics = {"steps": cfg.steps, "best_step": best[2], "seconds": time.perf_counter() - t0,
               "parameters": int(sum(x.size for x in jax.tree_util.tree_leaves(params)))}
    predictions = {name: predict(apply, params, [x[idx] for x in xs]) for name, idx in splits.items() if len(idx)}
    for name, pred in predictions.items():
        metrics[f"{name}_accuracy"] = float(np.mean(pred == labels[splits[name]]))
        metrics[f"{name}_count"] = int(len(pred))
    return {"params": params, "splits": splits, "stats": stats, "metrics": metrics, "history": history,
            "n_classes": n_classes, "predictions": predictions}
