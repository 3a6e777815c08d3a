"""The denoiser's config and loss on a collection's weights; training runs
through the one loop (inr/train/fit.py), which keeps the EMA of the weights
that sampling uses."""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from inr.diffusion.augment import AugmentConfig
from inr.diffusion.denoiser import DENOISERS, DenoiserConfig, TransformerDenoiserConfig, upgrade_v1
from inr.diffusion.schedule import PREDICTIONS, Schedule, linear_schedule, q_sample
from inr.diffusion.standardize import STANDARDIZE_BY
from inr.diffusion.tokens import Tokenizer
from inr.errors import InrError
from inr.train.checkpoint import FitState
from inr.train.config import TrainConfig
from inr.train.fit import fit, start_state
from inr.train.samplers import signal_fits_only
from inr.train.optim import make_optimizer


@dataclass
class DiffusionConfig:
    kind = "diffusion"  # its sections in a config file (inr.config.RUN_KINDS)

    seed: int = 0
    """seed of the split, initialisation, batches and noise"""
    split: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    """train/val/test fractions of the signals (the weight-space issue's split)"""
    timesteps: int = 500
    beta_start: float = 1e-4
    beta_end: float = 2e-2
    prediction: str = "x0"
    """what the denoiser outputs: x0 (HyperDiffusion's) | v (Salimans & Ho 2022; x0 = sqrt(abar) x_t - sqrt(1 - abar) v)"""
    standardize: bool = True
    """standardize the weights over the training fields (inverted when sampling)"""
    standardize_by: str = "parameter"
    """parameter: a mean and std per parameter | tensor: per weight or bias tensor (keeps dws equivariant) |
    pca: whitened on the principal axes (beyond the paper; transformer only)"""
    model: DenoiserConfig = field(default_factory=TransformerDenoiserConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    """beyond the paper: every training batch rotated, scaled and shifted in weight space (exact for fields
    with the identity encoding; inr/diffusion/augment.py)"""
    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=20000, optimizer="adamw", lr=2e-4, weight_decay=0.0, warmup=500, schedule="cosine", decay_rate=0.0,
        grad_clip=1.0, ema=0.999, batch_size=64, steps_per_call=50, checkpoint_every=500))
    """the training loop: AdamW, linear warm-up and cosine decay, clipping, and the EMA of the
    weights that sampling uses (train.ema)"""


RENAMED = {k: f"train.{k}" for k in ("steps", "batch_size", "lr", "warmup", "grad_clip", "ema", "steps_per_call",
                                      "checkpoint_every")}
"""keys of format 1's flat config and where they live now"""


def upgrade_config(saved: dict) -> dict:
    """A config saved by format 1 (flat training keys, or one flat denoiser
    section with every denoiser's keys) in today's shape."""
    saved = dict(saved)
    train = {k: saved.pop(k) for k in list(saved) if k in RENAMED}
    if train:
        saved["train"] = {**train, **saved.get("train", {})}
    if isinstance(saved.get("model"), dict):
        saved["model"] = upgrade_v1(saved["model"])
    return saved


def check_config(cfg: DiffusionConfig) -> None:
    """One-line errors for settings the schedule or the denoiser cannot use."""
    m = cfg.model
    problems = [(cfg.timesteps < 1, f"timesteps must be >= 1 (got {cfg.timesteps})"),
                (not 0 < cfg.beta_start <= cfg.beta_end < 1,
                 f"need 0 < beta_start <= beta_end < 1 (got {cfg.beta_start}, {cfg.beta_end})"),
                *m.problems(),
                (cfg.prediction not in PREDICTIONS,
                 f"prediction must be one of {', '.join(PREDICTIONS.names())} (got {cfg.prediction!r})"),
                (cfg.standardize_by not in STANDARDIZE_BY,
                 f"standardize_by must be one of {', '.join(STANDARDIZE_BY.names())} (got {cfg.standardize_by!r})"),
                (m.name == "dws" and cfg.standardize_by == "pca",
                 "the dws denoiser needs the weights' own tensors: standardize_by tensor or parameter, not pca"),
                (cfg.train.steps_per_call < 1 or cfg.train.batch_size < 1,
                 f"train.steps_per_call and train.batch_size must be >= 1 (got {cfg.train.steps_per_call}, "
                 f"{cfg.train.batch_size})"),
                (not 0 <= cfg.train.ema < 1, f"train.ema must be in [0, 1) (got {cfg.train.ema})")]
    for bad, message in problems:
        if bad:
            raise InrError(f"diffusion config: {message}")
    signal_fits_only(cfg.train.sampler, "denoiser training")


def schedule_of(cfg: DiffusionConfig) -> Schedule:
    return linear_schedule(cfg.timesteps, cfg.beta_start, cfg.beta_end)


def build(cfg: DiffusionConfig, tok: Tokenizer):
    return DENOISERS.get(cfg.model.name)(cfg.model, tok)


def init_state(cfg: DiffusionConfig, tok: Tokenizer) -> FitState:
    return start_state(build(cfg, tok).init(jax.random.PRNGKey(cfg.seed)), make_optimizer(cfg.train), cfg.train)


def make_loss(cfg: DiffusionConfig, tok: Tokenizer, augment=None):
    """``loss(params, data, key)``: the MSE of the prediction (x0 or v) on a
    batch of random fields of ``data`` (moved by ``augment(key, x0)`` if
    given), random timesteps and noise."""
    apply = build(cfg, tok).apply
    sched, target = schedule_of(cfg), PREDICTIONS.get(cfg.prediction).target

    def loss_fn(params, data, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        x0 = data[jax.random.randint(k1, (cfg.train.batch_size,), 0, data.shape[0])]
        if augment is not None:
            x0 = augment(k4, x0)
        t = jax.random.randint(k2, (cfg.train.batch_size,), 0, sched.steps)
        noise = jax.random.normal(k3, x0.shape)
        return jnp.mean((apply(params, q_sample(sched, x0, t, noise), t) - target(sched, x0, t, noise)) ** 2)

    return loss_fn


def train(cfg: DiffusionConfig, tok: Tokenizer, data, state: FitState, *, checkpoint=None, quiet: bool = False,
          augment=None) -> FitState:
    """Train from ``state`` to ``cfg.train.steps`` (or ``train.max_seconds``)
    through the one training loop, checkpointing to ``checkpoint``; the EMA
    weights are ``state.extra["ema"]``."""
    return fit(make_loss(cfg, tok, augment), state, jnp.asarray(data), cfg.train, key=jax.random.PRNGKey(cfg.seed + 1),
               checkpoint=checkpoint, quiet=quiet, desc="diffusion")
