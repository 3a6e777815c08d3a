"""Training a weight-space classifier on a collection's fields, through the one training loop."""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from inr.errors import InrError
from inr.train.config import TrainConfig
from inr.train.fit import Select, fit, restore, start_state
from inr.train.samplers import signal_fits_only
from inr.train.optim import make_optimizer
from inr.collections.split import split_by_signal
from inr.weightspace.data import (WeightData, augment_inputs, batched, flip_signs, permute_batch, standardize,
                                  standardizer)
from inr.weightspace.models import WEIGHT_MODELS, DWSNetConfig, WeightModelConfig, upgrade_v1
from inr.weightspace.probes import make_probe
from inr.weightspace.tasks import TASKS, Task


def _train_defaults() -> TrainConfig:
    # AdamW with 200 warm-up steps and a cosine decay to 0, validation every 250 steps
    return TrainConfig(steps=4000, optimizer="adamw", lr=3e-3, weight_decay=5e-4, warmup=200, schedule="cosine",
                       decay_rate=0.0, batch_size=128, steps_per_call=250, checkpoint_every=1000)


@dataclass
class WeightTrainConfig:
    kind = "weights"  # its sections in a config file (inr.config.RUN_KINDS)

    task: str = "classify"
    """classify: predict each field's label | edit: predict new weights whose field shows the picture
    dilated (INR editing, image collections)"""
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
    input_augment_scale: float = 1.0
    """multiplies input_augment's rotation, shift and zoom ranges (0.25: 11.25 deg, 0.0625, 5 %; dropout stays 1 %)"""
    edit_kernel: int = 3
    """edit: side of the dilation's square kernel, in pixels"""
    sign_augment: bool = False
    """random sign flips of each training example's hidden neurons (fields with an odd activation, e.g. sine)"""


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


def build_model(cfg: WeightTrainConfig, space, n_out: int, probe):
    """The configured model, with the head ``n_out`` asks for (0: an equivariant weight-space head)."""
    return WEIGHT_MODELS.get(cfg.model.name)(cfg.model, space, n_out, probe, equivariant=n_out == 0)


def predictor(model, task: Task):
    """Jitted ``(params, standardized tensors) -> the task's predictions``."""
    return jax.jit(lambda params, xs: task.predict(model.apply(params, xs), xs))


def make_loss(cfg: WeightTrainConfig, model, task: Task, space, stats):
    """``loss(params, data, key)``: the task's loss on a random batch of
    ``data = {"x": raw tensors, "y": targets}``, augmented as configured (sign
    flips and input-space changes act on raw weights, so batches are
    standardized after them)."""

    def loss_fn(params, data, key):
        idx = jax.random.randint(key, (cfg.train.batch_size,), 0, data["y"].shape[0])
        batch = [x[idx] for x in data["x"]]
        if cfg.sign_augment:
            batch = flip_signs(space, jax.random.fold_in(key, 3), batch)
        if cfg.input_augment:
            batch = augment_inputs(space, jax.random.fold_in(key, 2), batch, strength=cfg.input_augment_scale)
        batch = standardize(batch, stats)
        if cfg.augment:
            batch = permute_batch(space, jax.random.fold_in(key, 1), batch)
        return task.loss(model.apply(params, batch), batch, data["y"][idx])

    return loss_fn


def check_symmetry(cfg: WeightTrainConfig, data: WeightData) -> None:
    """Sign flips (as augmentation or as a model's invariance) keep a field only for odd activations."""
    act = data.field.model.activation
    if (cfg.sign_augment or cfg.model.sign_invariant) and not act.odd:
        what = "sign_augment" if cfg.sign_augment else f"model {cfg.model.name}"
        raise InrError(f"{what} assumes that flipping a neuron's signs keeps the field (an odd activation "
                       f"such as sine); these fields use {act.name}")


def check_config(cfg: WeightTrainConfig) -> None:
    if cfg.train.batch_size < 1:
        raise InrError(f"train.batch_size must be >= 1 for weight-space training (got {cfg.train.batch_size})")
    if cfg.input_augment_scale < 0:
        raise InrError(f"input_augment_scale must be >= 0 (got {cfg.input_augment_scale})")
    signal_fits_only(cfg.train.sampler, "weight-space training")
    TASKS.get(cfg.task)  # an unknown task is an error before anything is read or written


def train_model(cfg: WeightTrainConfig, data: WeightData, quiet: bool = False, checkpoint=None,
                resume: bool = False) -> dict:
    """Fit the model for ``cfg.task`` through the one training loop (the best
    validation weights kept); return params, the split, standardization,
    metrics and every split's predictions. ``checkpoint`` is where the loop
    saves (and, with ``resume``, reads) its state."""
    check_config(cfg)
    check_symmetry(cfg, data)
    splits = split_by_signal(data.sources, cfg.split, cfg.seed)
    if len(splits["train"]) == 0 or len(splits["val"]) == 0:
        raise InrError(f"split {cfg.split}: too few signals for a train and a validation set")
    stats = standardizer(data.tensors, splits["train"], center=not cfg.model.sign_invariant)
    task = TASKS.get(cfg.task)(cfg, data, stats)
    if task.targets is None:
        raise InrError("classification needs labels; this collection has fields without one")
    xs = standardize(data.tensors, stats)
    model = build_model(cfg, data.space, task.n_out, make_probe(data.field, data.space, stats))
    init_key, train_key = jax.random.split(jax.random.PRNGKey(cfg.seed))
    optimizer = make_optimizer(cfg.train)
    select = Select(f"val_{task.metric}", task.better)
    state = start_state(model.init(init_key), optimizer, cfg.train, select=select)
    if resume:
        state = restore(checkpoint, state)
    train = {"x": [x[splits["train"]] for x in data.tensors], "y": jnp.asarray(task.targets[splits["train"]])}
    predict = predictor(model, task)
    val_x, val_y = [x[splits["val"]] for x in xs], task.targets[splits["val"]]
    state = fit(make_loss(cfg, model, task, data.space, stats), state, train, cfg.train, optimizer, key=train_key,
                evaluate=lambda p: {select.metric: task.score(batched(predict, p, val_x), val_y)},
                select=select, checkpoint=checkpoint, quiet=quiet, desc=f"train {cfg.model.name}")
    params = state.extra["best"]
    metrics = {"steps": state.step, "best_step": int(state.extra["best_step"]), "seconds": state.seconds,
               "parameters": int(sum(x.size for x in jax.tree_util.tree_leaves(params)))}
    predictions = {name: batched(predict, params, [x[idx] for x in xs]) for name, idx in splits.items() if len(idx)}
    for name, pred in predictions.items():
        metrics[f"{name}_{task.metric}"] = task.score(pred, task.targets[splits[name]])
        metrics[f"{name}_count"] = int(len(pred))
    return {"params": params, "splits": splits, "stats": stats, "metrics": metrics, "history": state.history,
            "n_out": task.n_out, "predictions": predictions, "task": task}
