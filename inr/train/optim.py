"""optax optimizers and learning-rate schedules, chosen by name."""
from __future__ import annotations

import jax
import optax

from inr.errors import InrError
from inr.registry import Registry
from inr.train.config import TrainConfig

SCHEDULES: Registry = Registry("schedule")


@SCHEDULES.register("constant")
def _constant(cfg: TrainConfig):
    return optax.constant_schedule(cfg.lr)


@SCHEDULES.register("cosine")
def _cosine(cfg: TrainConfig):
    return optax.cosine_decay_schedule(cfg.lr, max(cfg.steps, 1), alpha=cfg.decay_rate)


@SCHEDULES.register("exponential")
def _exponential(cfg: TrainConfig):
    return optax.exponential_decay(cfg.lr, max(cfg.steps, 1), cfg.decay_rate)


@SCHEDULES.register("step")
def _step(cfg: TrainConfig):
    bounds = {int(round(f * cfg.steps)): cfg.decay_rate for f in cfg.boundaries}
    return optax.piecewise_constant_schedule(cfg.lr, bounds)


OPTIMIZERS: Registry = Registry("optimizer")
OPTIMIZERS.register("adam", lambda lr, cfg: optax.adam(lr, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps))
OPTIMIZERS.register("adamw", lambda lr, cfg: optax.adamw(lr, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps,
                                                         weight_decay=cfg.weight_decay))
OPTIMIZERS.register("sgd", lambda lr, cfg: optax.sgd(lr, momentum=0.9))


def make_schedule(cfg: TrainConfig):
    return SCHEDULES.get(cfg.schedule)(cfg)


def _scaled(schedule, factor: float):
    return lambda step: factor * schedule(step)


def _group_labels(multipliers: dict):
    """Label every leaf by its top-level params key when that key has a multiplier."""

    def labels(params):
        return {k: jax.tree_util.tree_map(lambda _: k if k in multipliers else "default", v)
                for k, v in params.items()}

    return labels


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    if cfg.lr <= 0 or cfg.steps < 1:
        raise InrError(f"train.lr must be > 0 and train.steps >= 1 (got {cfg.lr}, {cfg.steps})")
    build = OPTIMIZERS.get(cfg.optimizer)
    schedule = make_schedule(cfg)
    if cfg.lr_multipliers:
        groups = {"default": build(schedule, cfg)}
        groups.update({k: build(_scaled(schedule, f), cfg) for k, f in cfg.lr_multipliers.items()})
        opt = optax.multi_transform(groups, _group_labels(cfg.lr_multipliers))
    else:
        opt = build(schedule, cfg)
    if cfg.grad_clip > 0:
        opt = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), opt)
    return opt
