"""Which samples each training step sees: ``train.sampler``, typed by name.

``uniform`` is plain training: every step sees the whole signal, or a random
minibatch of ``train.batch_size`` samples. The others train each step on a
share of the samples chosen by how badly the field fits them:

- ``int``, Nonparametric Teaching (INT; Zhang et al., ICML 2024, as its
  reference code does it): the ``k`` samples with the largest summed
  ``|f(x) - y|``, ``k`` growing in equal stages (20 % + 8 % a stage), the
  ranking recomputed every step for the first quarter of training, then every
  10, 20, ... 50 steps.
- ``evos``, the evolutionary selector (EVOS; Zhang et al., CVPR 2025, its
  reference code's final setting): fitness is each sample's squared error plus
  a small weight times its squared Laplacian error (the "crossover" of low and
  high frequencies; grid signals only), evaluated every 100 steps at the start
  down to every 50 at the end; each step keeps the fittest half of its share
  and "mutates" by adding a fresh random draw from the rest for the other half
  (with replacement, where the reference shuffles the rest: a shuffle every
  step costs more than the training it saves on cheap fields).

A sampler other than ``uniform`` becomes a :class:`Sampling`: what the one
training loop (:mod:`inr.train.fit`) needs to run it inside its jitted steps.
The kept and mutated counts are fixed within a stage, so each stage compiles
once; the ranking rides in the loop's extras (``extra["order"]``) and the
random draws are keyed by the step, so a resumed run trains on exactly the
samples an uninterrupted one would.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
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

    def mutated(self, steps: int) -> np.ndarray:
        """The share of each step's samples drawn at random from outside the worst-fitted, ``(steps,)``."""
        return np.zeros(steps)

    def refreshed(self, steps: int) -> np.ndarray:
        """Whether the ranking is recomputed before each step, ``(steps,)`` bools."""
        return np.zeros(steps, bool)

    def fitness(self, errors: SampleErrors) -> Callable:
        """``fitness(params, data) -> (n,)``, larger = trained on first."""
        raise NotImplementedError

    def check(self) -> None:
        """Raise :class:`InrError` for out-of-range options."""


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

    def fitness(self, errors: SampleErrors) -> Callable:
        return lambda params, data: jnp.sum(jnp.abs(errors.residuals(params, data)), axis=-1)

    def check(self) -> None:
        if not (0 < self.start <= 1 and self.stages >= 1 and 0 <= self.every_step <= 1 and self.max_interval >= 1):
            raise InrError("train.sampler (int): start must be in (0, 1], stages and max_interval >= 1, "
                           "every_step in [0, 1]")


@register_variant(SamplerConfig, "evos")
@dataclass
class EvosSampler(SamplerConfig):
    name: str = "evos"
    keep: float = 0.5
    """the fraction of the samples each step trains on"""
    mutation: float = 0.5
    """the share of those drawn at random (afresh every step) from the samples outside the fittest"""
    first_interval: int = 100
    """steps between fitness evaluations at the start of training, falling linearly to last_interval"""
    last_interval: int = 50
    crossover: float | None = None
    """weight of the squared Laplacian error in the fitness, for samples on a grid (images, audio); 0 = the
    squared error alone; unset: 1e-5 (the reference code's) on a grid, 0 elsewhere"""

    def kept(self, steps: int) -> np.ndarray:
        return np.full(steps, self.keep)

    def mutated(self, steps: int) -> np.ndarray:
        return np.full(steps, self.mutation)

    def refreshed(self, steps: int) -> np.ndarray:
        epoch = np.arange(1, steps + 1)  # the reference counts from 1 and evaluates where epoch % interval == 1
        interval = np.maximum((self.first_interval + (self.last_interval - self.first_interval) * epoch / steps)
                              .astype(int), 1)
        return epoch % interval == 1 % interval

    def fitness(self, errors: SampleErrors) -> Callable:
        weight = self.crossover if self.crossover is not None else (1.0e-5 if errors.grid is not None else 0.0)
        if weight > 0 and errors.grid is None:
            raise InrError("train.sampler.crossover needs samples on a full grid (an image with data.split all, "
                           "or audio), which this training does not have; leave it unset or 0")

        def fitness(params, data):
            r = errors.residuals(params, data)
            squared = jnp.mean(r**2, axis=-1)
            return squared + weight * jnp.mean(errors.laplacian(r) ** 2, axis=-1) if weight > 0 else squared

        return fitness

    def check(self) -> None:
        if not (0 < self.keep <= 1 and 0 <= self.mutation < 1 and self.first_interval >= 1
                and self.last_interval >= 1 and (self.crossover or 0) >= 0):
            raise InrError("train.sampler (evos): keep must be in (0, 1], mutation in [0, 1), first_interval and "
                           "last_interval >= 1, crossover >= 0")


def signal_fits_only(cfg: SamplerConfig, what: str) -> None:
    """A sampler ranks a signal's samples; ``what`` (weight-space training,
    a denoiser, meta-init's inner fits) has none to rank."""
    if not isinstance(cfg, UniformSampler):
        raise InrError(f"train.sampler {cfg.name} picks a signal's samples, which {what} does not have "
                       "(it applies to fit, compare and fit-many); remove it")


@dataclass(frozen=True)
class SampleErrors:
    """What a modality tells the samplers about one field's fit of its
    training data: the per-sample rows (``data[k]`` for ``k`` in ``keys``),
    ``predictions(params, data) -> (n, c)`` and ``targets(data) -> (n, c)``
    on a comparable scale, and, for samples on a regular grid of ``grid``
    shape, the Laplacian there (None elsewhere)."""

    keys: tuple
    predictions: Callable
    targets: Callable
    grid: tuple | None = None

    def residuals(self, params, data):
        return self.predictions(params, data) - self.targets(data)

    def laplacian(self, values):
        """The discrete Laplacian (edges replicated) of per-sample ``values`` (n, c) on ``grid``."""
        v = values.reshape(*self.grid, -1)
        padded = jnp.pad(v, [(1, 1)] * len(self.grid) + [(0, 0)], mode="edge")
        centre = tuple(slice(1, -1) for _ in self.grid)
        out = -2 * len(self.grid) * v
        for axis in range(len(self.grid)):
            for shift in (0, 2):
                window = list(centre)
                window[axis] = slice(shift, shift + self.grid[axis])
                out = out + padded[tuple(window)]
        return out.reshape(values.shape)


def regression_errors(apply: Callable, coords: str = "coords", targets: str = "targets",
                      grid: tuple | None = None) -> SampleErrors:
    """:class:`SampleErrors` of a regression of ``data[targets]`` at ``data[coords]``."""
    return SampleErrors((coords, targets), lambda params, data: apply(params, data[coords]),
                        lambda data: data[targets].reshape(data[coords].shape[0], -1), grid)


@dataclass(frozen=True)
class Sampling:
    """A sampler made concrete for one signal size and step count.

    ``fitness(params, data) -> (n,)`` scores each row of ``data[keys]`` (one
    field; the loop vmaps it over a stack); ``keep[s]`` is the number of rows
    step ``s`` trains on, ``mutate[s]`` how many of them are drawn at random
    from outside the fittest, and ``due[s]`` whether the rows are re-ranked first."""

    fitness: Callable
    keys: tuple
    n: int
    keep: np.ndarray
    mutate: np.ndarray
    due: np.ndarray

    def stage(self, step: int) -> tuple[int, int]:
        """The static ``(kept, mutated)`` counts of ``step``."""
        return int(self.keep[step]), int(self.mutate[step])

    def stage_end(self, step: int, end: int) -> int:
        """``end``, or the first step before it where the stage changes."""
        changes = np.flatnonzero((self.keep[step:end] != self.keep[step]) | (self.mutate[step:end] != self.mutate[step]))
        return step + int(changes[0]) if changes.size else end

    def start(self) -> jnp.ndarray:
        return jnp.arange(self.n, dtype=jnp.int32)

    def rank(self, params, data) -> jnp.ndarray:
        """Row indices, least fit (largest error) first."""
        return jnp.argsort(-self.fitness(params, data)).astype(jnp.int32)

    def select(self, data: dict, order, key, k: int, m: int) -> dict:
        """The ``k - m`` first rows of ``order`` and ``m`` drawn from the rest;
        all of ``data`` as it is when ``k`` covers it."""
        if k >= self.n:
            return data
        rows = order[:k - m]
        if m > 0:  # uniform over the rest, with replacement: no shuffle of the rest every step
            rest = order[k - m:]
            rows = jnp.concatenate([rows, rest[jax.random.randint(key, (m,), 0, rest.shape[0])]])
        return {name: (a[rows] if name in self.keys else a) for name, a in data.items()}


def make_sampling(cfg: SamplerConfig, steps: int, errors: SampleErrors | None, data: dict,
                  modality: str) -> Sampling | None:
    """The :class:`Sampling` of ``cfg`` over the rows of one field's ``data``
    (the loop vmaps it over a stack of such fields), or None for ``uniform``.
    ``errors`` is the modality's, None where its training has no fixed samples
    to rank."""
    cfg.check()
    if isinstance(cfg, UniformSampler):
        return None
    if errors is None:
        raise InrError(f"train.sampler {cfg.name} ranks the signal's samples by their error, but this {modality} "
                       "training draws fresh points every step (an SDF's data.loss siren); use data.loss sdf, "
                       "or train.sampler: uniform")
    n = int(data[errors.keys[0]].shape[0])
    keep = np.maximum(1, (cfg.kept(steps) * n).astype(np.int64))
    mutate = np.minimum((cfg.mutated(steps) * keep).astype(np.int64), keep - 1)
    due = cfg.refreshed(steps)
    due[0] = True
    return Sampling(cfg.fitness(errors), tuple(errors.keys), n, keep, mutate, due)
