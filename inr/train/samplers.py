"""Which samples each training step sees: ``train.sampler``, typed by name.

``uniform`` is today's training: every step sees the whole signal, or a random
minibatch of ``train.batch_size`` samples. ``int`` is Nonparametric Teaching
(INT; Zhang et al., ICML 2024, as its reference code does it): each step
trains on the ``k`` samples the field gets most wrong (largest summed
``|f(x) - y|``), with ``k`` a fraction of the signal that grows in equal
stages, and the ranking recomputed every step for the first part of training,
then every 10, 20, ... 50 steps.

A sampler other than ``uniform`` becomes a :class:`Sampling`: what the one
training loop (:mod:`inr.train.fit`) needs to run it inside its jitted steps.
The kept count is fixed within a stage, so each stage compiles once; the
ranking rides in the loop's extras (``extra["order"]``), so a resumed run
trains on exactly the samples an uninterrupted one would.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp
import numpy as np

from inr.errors import InrError
from inr.schema import register_variant


@dataclass
class SamplerConfig:
    """Training-sample selection, typed by ``name`` (see :mod:`inr.schema`);
    ``sampler: int`` is short for ``sampler: {name: int}``."""

    name: str = "uniform"

    def kept(self, steps: int) -> np.ndarray:
        """The fraction of the samples trained on at each step, ``(steps,)``."""
        return np.ones(steps)

    def refreshed(self, steps: int) -> np.ndarray:
        """Whether the ranking is recomputed before each step, ``(steps,)`` bools."""
        return np.zeros(steps, bool)


@register_variant(SamplerConfig, "uniform")
@dataclass
class UniformSampler(SamplerConfig):
    name: str = "uniform"


@register_variant(SamplerConfig, "int")
@dataclass
class IntSampler(SamplerConfig):
    name: str = "int"
    start: float = 0.2
    """the fraction kept in the first stage; each later stage keeps (1 - start) / stages more"""
    stages: int = 10
    """equal parts of training, each with its own kept fraction"""
    every_step: float = 0.25
    """the share of training (from the start) that re-ranks before every step"""
    max_interval: int = 50
    """after that, re-rank every max_interval / 5, 2 max_interval / 5, ... steps, in five equal parts"""

    def kept(self, steps: int) -> np.ndarray:
        stage = np.floor(np.arange(steps) / (steps / self.stages))
        return np.minimum(self.start + stage * (1.0 - self.start) / self.stages, 1.0)

    def refreshed(self, steps: int) -> np.ndarray:
        step = np.arange(steps)
        startup = int(steps * self.every_step)
        part = max((steps - startup) // 5, 1)
        interval = max(self.max_interval // 5, 1) * (np.maximum(1, step - startup) // part + 1)
        return (step < startup) | (step % interval == 0)


def check_sampler(cfg: SamplerConfig) -> None:
    if isinstance(cfg, IntSampler) and not (0 < cfg.start <= 1 and cfg.stages >= 1 and 0 <= cfg.every_step <= 1
                                            and cfg.max_interval >= 1):
        raise InrError("train.sampler (int): start must be in (0, 1], stages and max_interval >= 1, "
                       "every_step in [0, 1]")


def signal_fits_only(cfg: SamplerConfig, what: str) -> None:
    """A sampler ranks a signal's samples; ``what`` (weight-space training,
    a denoiser, meta-init's inner fits) has none to rank."""
    if not isinstance(cfg, UniformSampler):
        raise InrError(f"train.sampler {cfg.name} picks a signal's samples, which {what} does not have "
                       "(it applies to fit, compare and fit-many); remove it")


@dataclass(frozen=True)
class Sampling:
    """A sampler made concrete for one signal size and step count.

    ``errors(params, data) -> (n,)`` scores each row of ``data[keys]`` (one
    field; the loop vmaps it over a stack); ``keep[s]`` is the number of rows
    step ``s`` trains on and ``due[s]`` whether the rows are re-ranked first."""

    errors: Callable
    keys: tuple
    n: int
    keep: np.ndarray
    due: np.ndarray

    def stage_end(self, step: int, end: int) -> int:
        """``end``, or the first step before it where the kept count changes."""
        changes = np.flatnonzero(self.keep[step:end] != self.keep[step])
        return step + int(changes[0]) if changes.size else end

    def start(self) -> jnp.ndarray:
        return jnp.arange(self.n, dtype=jnp.int32)

    def rank(self, params, data) -> jnp.ndarray:
        """Row indices, worst-fitted first."""
        return jnp.argsort(-self.errors(params, data)).astype(jnp.int32)

    def select(self, data: dict, order, k: int) -> dict:
        rows = order[:k]
        return {name: (a[rows] if name in self.keys else a) for name, a in data.items()}


def make_sampling(cfg: SamplerConfig, steps: int, errors: tuple | None, data: dict, modality: str,
                  stacked: bool = False) -> Sampling | None:
    """The :class:`Sampling` of ``cfg`` over the rows of ``data`` (a stack of
    fields' data with ``stacked``), or None for ``uniform``. ``errors`` is the
    modality's ``(keys, errors)``, None where its training has no fixed
    samples to rank."""
    check_sampler(cfg)
    if isinstance(cfg, UniformSampler):
        return None
    if errors is None:
        raise InrError(f"train.sampler {cfg.name} ranks the signal's samples by their error, but this {modality} "
                       "training draws fresh points every step (an SDF's data.loss siren); use data.loss sdf, "
                       "or train.sampler: uniform")
    keys, fn = errors
    n = int(data[keys[0]].shape[1 if stacked else 0])
    keep = np.maximum(1, (cfg.kept(steps) * n).astype(np.int64))
    due = cfg.refreshed(steps)
    due[0] = True
    return Sampling(fn, tuple(keys), n, keep, due)


def abs_errors(apply: Callable, coords: str = "coords", targets: str = "targets") -> tuple:
    """``(keys, errors)`` for a regression of ``data[targets]`` at ``data[coords]``:
    each row's error summed over the output channels."""
    def errors(params, data):
        diff = apply(params, data[coords]) - data[targets].reshape(data[coords].shape[0], -1)
        return jnp.sum(jnp.abs(diff), axis=-1)

    return (coords, targets), errors
