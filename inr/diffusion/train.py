"""Training the denoiser on a collection's weights: jitted chunks of steps,
an EMA of the weights for sampling, checkpoints, a wall-time bound."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from inr.diffusion.augment import AugmentConfig
from inr.diffusion.denoiser import DENOISERS, DenoiserConfig
from inr.diffusion.schedule import PREDICTIONS, Schedule, linear_schedule, q_sample
from inr.diffusion.standardise import STANDARDISE_BY
from inr.diffusion.tokens import Tokenizer
from inr.errors import DivergedError, InrError
from inr.train.checkpoint import FitState, save_checkpoint


@dataclass
class DiffusionConfig:
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
    """standardise the weights over the training fields (inverted when sampling)"""
    standardize_by: str = "parameter"
    """parameter: a mean and std per parameter | tensor: per weight or bias tensor (keeps dws equivariant) |
    pca: whitened on the principal axes (beyond the paper; transformer only)"""
    model: DenoiserConfig = field(default_factory=DenoiserConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    """beyond the paper: every training batch rotated, scaled and shifted in weight space (exact for fields
    with the identity encoding; inr/diffusion/augment.py)"""
    steps: int = 20000
    batch_size: int = 64
    lr: float = 2e-4
    warmup: int = 500
    """steps of linear lr warm-up"""
    grad_clip: float = 1.0
    ema: float = 0.999
    """decay of the weights' moving average used for sampling"""
    steps_per_call: int = 50
    checkpoint_every: int = 500


def check_config(cfg: DiffusionConfig) -> None:
    """One-line errors for settings the schedule or the denoiser cannot use."""
    m = cfg.model
    problems = [(cfg.timesteps < 1, f"timesteps must be >= 1 (got {cfg.timesteps})"),
                (not 0 < cfg.beta_start <= cfg.beta_end < 1,
                 f"need 0 < beta_start <= beta_end < 1 (got {cfg.beta_start}, {cfg.beta_end})"),
                (m.width < 2 or m.width % 2 or m.heads < 1 or (m.name == "transformer" and m.width % m.heads),
                 f"model.width must be even and divisible by model.heads (got {m.width}, {m.heads})"),
                (m.depth < 1, f"model.depth must be >= 1 (got {m.depth})"),
                (m.name == "dws" and m.depth < 2, f"model.depth must be >= 2 for the dws denoiser (got {m.depth})"),
                (cfg.prediction not in PREDICTIONS,
                 f"prediction must be one of {', '.join(PREDICTIONS.names())} (got {cfg.prediction!r})"),
                (cfg.standardize_by not in STANDARDISE_BY,
                 f"standardize_by must be one of {', '.join(STANDARDISE_BY.names())} (got {cfg.standardize_by!r})"),
                (m.name == "dws" and cfg.standardize_by == "pca",
                 "the dws denoiser needs the weights' own tensors: standardize_by tensor or parameter, not pca"),
                (cfg.steps_per_call < 1 or cfg.batch_size < 1,
                 f"steps_per_call and batch_size must be >= 1 (got {cfg.steps_per_call}, {cfg.batch_size})")]
    for bad, message in problems:
        if bad:
            raise InrError(f"diffusion config: {message}")


def schedule_of(cfg: DiffusionConfig) -> Schedule:
    return linear_schedule(cfg.timesteps, cfg.beta_start, cfg.beta_end)


def build(cfg: DiffusionConfig, tok: Tokenizer):
    return DENOISERS.get(cfg.model.name)(cfg.model, tok)


def make_optimizer(cfg: DiffusionConfig):
    sched = optax.warmup_cosine_decay_schedule(0.0, cfg.lr, max(cfg.warmup, 1), max(cfg.steps, cfg.warmup + 1))
    return optax.chain(optax.clip_by_global_norm(cfg.grad_clip), optax.adamw(sched, weight_decay=0.0))


def init_state(cfg: DiffusionConfig, tok: Tokenizer) -> FitState:
    init, _ = build(cfg, tok)
    params = init(jax.random.PRNGKey(cfg.seed))
    state = {"model": params, "ema": params}
    return FitState(state, make_optimizer(cfg).init(params))


def make_chunk(cfg: DiffusionConfig, tok: Tokenizer, augment=None):
    """``chunk(state, opt_state, data, start, n) -> (state, opt_state, losses)``:
    n steps of the MSE of the prediction (x0 or v) on random fields (moved by
    ``augment(key, x0)`` if given), timesteps and noise."""
    _, apply = build(cfg, tok)
    sched, opt, target = schedule_of(cfg), make_optimizer(cfg), PREDICTIONS.get(cfg.prediction).target
    key = jax.random.PRNGKey(cfg.seed + 1)

    def loss_fn(params, x0, t, noise):
        return jnp.mean((apply(params, q_sample(sched, x0, t, noise), t) - target(sched, x0, t, noise)) ** 2)

    def chunk(state, opt_state, data, start, n):
        def body(carry, i):
            st, os_ = carry
            k1, k2, k3, k4 = jax.random.split(jax.random.fold_in(key, start + i), 4)
            x0 = data[jax.random.randint(k1, (cfg.batch_size,), 0, data.shape[0])]
            if augment is not None:
                x0 = augment(k4, x0)
            t = jax.random.randint(k2, (cfg.batch_size,), 0, sched.steps)
            loss, grads = jax.value_and_grad(loss_fn)(st["model"], x0, t, jax.random.normal(k3, x0.shape))
            updates, os_ = opt.update(grads, os_, st["model"])
            model = optax.apply_updates(st["model"], updates)
            ema = jax.tree_util.tree_map(lambda e, m: cfg.ema * e + (1 - cfg.ema) * m, st["ema"], model)
            return ({"model": model, "ema": ema}, os_), loss

        (state, opt_state), losses = jax.lax.scan(body, (state, opt_state), jnp.arange(n))
        return state, opt_state, losses

    return jax.jit(chunk, static_argnames="n")


def train(cfg: DiffusionConfig, tok: Tokenizer, data, state: FitState, *, checkpoint=None,
          max_seconds: float = 0.0, quiet: bool = False, augment=None) -> FitState:
    """Train from ``state`` to ``cfg.steps`` (or for ``max_seconds`` of wall
    time, at a chunk end), checkpointing to ``checkpoint``."""
    chunk = make_chunk(cfg, tok, augment)
    data = jnp.asarray(data)
    t_start, last_saved = time.perf_counter(), state.step
    bar = tqdm(total=cfg.steps, initial=state.step, disable=quiet, desc="diffusion", unit="step",
               dynamic_ncols=True)
    try:
        while state.step < cfg.steps:
            if max_seconds and time.perf_counter() - t_start >= max_seconds:
                break
            n = min(cfg.steps_per_call, cfg.steps - state.step)
            t0 = time.perf_counter()
            params, opt_state, losses = chunk(state.params, state.opt_state, data, state.step, n=n)
            losses = np.asarray(losses)
            if not np.all(np.isfinite(losses)):
                raise DivergedError(f"diffusion training diverged between steps {state.step} and "
                                    f"{state.step + n} (last good checkpoint kept); try a lower lr")
            dt = time.perf_counter() - t0
            record = {"step": state.step + n, "seconds": state.seconds + dt, "loss": float(losses.mean())}
            state = FitState(params, opt_state, state.step + n, state.seconds + dt, state.history + [record])
            bar.update(n)
            bar.set_postfix(loss=f"{record['loss']:.4f}")
            if checkpoint is not None and state.step - last_saved >= cfg.checkpoint_every:
                save_checkpoint(checkpoint, state)
                last_saved = state.step
    finally:
        bar.close()
    if checkpoint is not None:
        save_checkpoint(checkpoint, state)
    return state
