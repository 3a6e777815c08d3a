"""optax optimizers and learning-rate schedules, chosen by name."""
from __future__ import annotations

import jax
import optax

from inr.errors import InrError
from inr.registry import Registry
from inr.train.config import TrainConfig

SCHEDULES: Registry = Registry("schedule")
"""name -> ``(cfg, span) -> schedule`` decaying from ``cfg.lr`` over the ``span`` steps after the warm-up"""


@SCHEDULES.register("constant")
def _constant(cfg: TrainConfig, span: int):
    return optax.constant_schedule(cfg.lr)


@SCHEDULES.register("cosine")
def _cosine(cfg: TrainConfig, span: int):
    return optax.cosine_decay_schedule(cfg.lr, span, alpha=cfg.decay_rate)


@SCHEDULES.register("exponential")
def _exponential(cfg: TrainConfig, span: int):
    return optax.exponential_decay(cfg.lr, span, cfg.decay_rate)


@SCHEDULES.register("step")
def _step(cfg: TrainConfig, span: int):
    bounds = {int(round(f * span)): cfg.decay_rate for f in cfg.boundaries}
    return optax.piecewise_constant_schedule(cfg.lr, bounds)


OPTIMIZERS: Registry = Registry("optimizer")
OPTIMIZERS.register("adam", lambda lr, cfg: optax.adam(lr, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps))
OPTIMIZERS.register("adamw", lambda lr, cfg: optax.adamw(lr, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps,
                                                         weight_decay=cfg.weight_decay))
OPTIMIZERS.register("sgd", lambda lr, cfg: optax.sgd(lr, momentum=0.9))


def make_schedule(cfg: TrainConfig):
    """``cfg.warmup`` steps of linear warm-up from 0 (capped at half of the
    steps, so a smoke-sized run still decays), then the named schedule over the
    steps that remain (for cosine, optax's warm-up + cosine decay)."""
    if cfg.warmup < 0:
        raise InrError(f"train.warmup must be >= 0 (got {cfg.warmup})")
    warmup = min(cfg.warmup, cfg.steps // 2)
    after = SCHEDULES.get(cfg.schedule)(cfg, max(cfg.steps - warmup, 1))
    if warmup == 0:
        return after
    return optax.join_schedules([optax.linear_schedule(0.0, cfg.lr, warmup), after], [warmup])


def _scaled(schedule, factor: float):
    return lambda step: factor * schedule(step)


FROZEN_KEY = "state"
"""params under a key of this name (e.g. SAPE's ``encoding.state``) are never
changed by the optimizer: they are updated between steps by their owner."""


def _path_keys(path) -> list[str]:
    return [str(getattr(k, "key", getattr(k, "idx", k))) for k in path]


def _group_labels(multipliers: dict):
    """Label each leaf: frozen state, its top-level key's lr group, or default."""

    def label(path, _):
        keys = _path_keys(path)
        if FROZEN_KEY in keys:
            return "frozen"
        return keys[0] if keys and keys[0] in multipliers else "default"

    return lambda params: jax.tree_util.tree_map_with_path(label, params)


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    if cfg.lr <= 0 or cfg.steps < 1:
        raise InrError(f"train.lr must be > 0 and train.steps >= 1 (got {cfg.lr}, {cfg.steps})")
    build = OPTIMIZERS.get(cfg.optimizer)
    schedule = make_schedule(cfg)
    groups = {"default": build(schedule, cfg), "frozen": optax.set_to_zero()}
    groups.update({k: build(_scaled(schedule, f), cfg) for k, f in cfg.lr_multipliers.items()})
    opt = optax.multi_transform(groups, _group_labels(cfg.lr_multipliers))
    if cfg.grad_clip > 0:
        opt = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), opt)
    return opt
