"""Training a weight-space classifier on a collection's fields, through the one training loop."""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr.errors import InrError
from inr.train.config import TrainConfig
from inr.train.fit import Select, fit, restore, start_state
from inr.train.samplers import signal_fits_only
from inr.train.optim import make_optimizer
from inr.collections.split import split_by_signal
from inr.weightspace.data import WeightData, augment_inputs, permute_batch, standardize, standardizer
from inr.weightspace.models import WEIGHT_MODELS, DWSNetConfig, WeightModelConfig, upgrade_v1
from inr.weightspace.probes import make_probe


def _train_defaults() -> TrainConfig:
    # AdamW with 200 warm-up steps and a cosine decay to 0, validation every 250 steps
    return TrainConfig(steps=4000, optimizer="adamw", lr=3e-3, weight_decay=5e-4, warmup=200, schedule="cosine",
                       decay_rate=0.0, batch_size=128, steps_per_call=250, checkpoint_every=1000)


@dataclass
class WeightTrainConfig:
    kind = "weights"  # its sections in a config file (inr.config.RUN_KINDS)

    task: str = "classify"
    """classify: predict each field's label"""
    seed: int = 0
    """seed of the split, the initialisation and the batches"""
    split: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    """train/val/test fractions of the signals (all fits of a signal stay together)"""
    model: WeightModelConfig = field(default_factory=DWSNetConfig)
    train: TrainConfig = field(default_factory=_train_defaults)
    """the training loop (train.steps_per_call is also the validation interval; the best
    validation weights are kept)"""
    augment: bool = False
    """random hidden-neuron permutations of each training example"""
    input_augment: bool = False
    """DWSNets' input-space augmentations of 2-D fields: rotation (45 deg), shift (0.25), zoom (20%), 1% dropout"""


RENAMED = {k: f"train.{v}" for k, v in {"steps": "steps", "batch_size": "batch_size", "lr": "lr",
                                        "weight_decay": "weight_decay", "schedule_warmup": "warmup",
                                        "eval_every": "steps_per_call"}.items()}
"""keys of format 1's flat config and where they live now"""


def upgrade_config(saved: dict) -> dict:
    """A config saved by format 1 (flat training keys; one flat model section,
    perhaps without model.attention / model.probes) in today's shape."""
    saved = dict(saved)
    train = {RENAMED[k].split(".", 1)[1]: saved.pop(k) for k in list(saved) if k in RENAMED}
    if train:
        saved["train"] = {**train, **saved.get("train", {})}
    if isinstance(saved.get("model"), dict):
        saved["model"] = upgrade_v1(saved["model"])
    return saved


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


def make_loss(cfg: WeightTrainConfig, model, space, stats):
    """``loss(params, data, key)``: cross-entropy on a random batch of
    ``data = {"x": tensors, "y": labels}``, augmented as configured (input
    augmentation acts on raw weights, so those tensors are standardized per batch)."""

    def loss_fn(params, data, key):
        idx = jax.random.randint(key, (cfg.train.batch_size,), 0, data["y"].shape[0])
        batch = [x[idx] for x in data["x"]]
        if cfg.input_augment:
            batch = standardize(augment_inputs(space, jax.random.fold_in(key, 2), batch), stats)
        if cfg.augment:
            batch = permute_batch(space, jax.random.fold_in(key, 1), batch)
        logits = model.apply(params, batch)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, data["y"][idx]))

    return loss_fn


def check_config(cfg: WeightTrainConfig) -> None:
    if cfg.train.batch_size < 1:
        raise InrError(f"train.batch_size must be >= 1 for weight-space training (got {cfg.train.batch_size})")
    signal_fits_only(cfg.train.sampler, "weight-space training")


def train_classifier(cfg: WeightTrainConfig, data: WeightData, quiet: bool = False, checkpoint=None,
                     resume: bool = False) -> dict:
    """Fit a classifier through the one training loop (the best validation
    weights kept); return params, the split, standardization and metrics.
    ``checkpoint`` is where the loop saves (and, with ``resume``, reads) its state."""
    check_config(cfg)
    if data.labels is None:
        raise InrError("classification needs labels; this collection has fields without one")
    splits = split_by_signal(data.sources, cfg.split, cfg.seed)
    if len(splits["train"]) == 0 or len(splits["val"]) == 0:
        raise InrError(f"split {cfg.split}: too few signals for a train and a validation set")
    stats = standardizer(data.tensors, splits["train"])
    xs = standardize(data.tensors, stats)
    labels = np.asarray(data.labels)
    n_classes = int(labels.max()) + 1
    model = WEIGHT_MODELS.get(cfg.model.name)(cfg.model, data.space, n_classes,
                                              make_probe(data.field, data.space, stats))
    init_key, train_key = jax.random.split(jax.random.PRNGKey(cfg.seed))
    optimizer = make_optimizer(cfg.train)
    select = Select("val_accuracy", "max")
    state = start_state(model.init(init_key), optimizer, cfg.train, select=select)
    if resume:
        state = restore(checkpoint, state)
    train = {"x": [x[splits["train"]] for x in (data.tensors if cfg.input_augment else xs)],
             "y": jnp.asarray(labels[splits["train"]])}
    apply = jax.jit(model.apply)
    val_x, val_y = [x[splits["val"]] for x in xs], labels[splits["val"]]
    state = fit(make_loss(cfg, model, data.space, stats), state, train, cfg.train, optimizer, key=train_key,
                evaluate=lambda p: {"val_accuracy": float(np.mean(predict(apply, p, val_x) == val_y))},
                select=select, checkpoint=checkpoint, quiet=quiet, desc=f"train {cfg.model.name}")
    params = state.extra["best"]
    metrics = {"steps": state.step, "best_step": int(state.extra["best_step"]), "seconds": state.seconds,
               "parameters": int(sum(x.size for x in jax.tree_util.tree_leaves(params)))}
    predictions = {name: predict(apply, params, [x[idx] for x in xs]) for name, idx in splits.items() if len(idx)}
    for name, pred in predictions.items():
        metrics[f"{name}_accuracy"] = float(np.mean(pred == labels[splits[name]]))
        metrics[f"{name}_count"] = int(len(pred))
    return {"params": params, "splits": splits, "stats": stats, "metrics": metrics, "history": state.history,
            "n_classes": n_classes, "predictions": predictions}
