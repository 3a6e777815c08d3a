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
- ``soft_mining``, soft mining by Langevin Monte Carlo (Kheradmand et al.,
  CVPR 2024, as its reference code does it for rays): a fixed number of sample
  positions, continuous in the grid's box and rounded to the nearest sample,
  move each step along the gradient of their log loss plus Gaussian noise;
  the least-loss tenth and any that leave the box are redrawn from the
  signal's edge density, another tenth uniformly; the loss weights each sample
  by its stopped ``|f(x) - y|^(-r)`` (r ramping to ``alpha``), clamped to
  [0.2, mean + std]. Grid signals only (images, audio).
- ``nint``, NTK-guided implicit neural teaching (NINT; Zhang et al., CVPR
  2026, as its reference code does it): each step trains on a constant share
  of the samples, re-ranked every step: most of them (70 %) drawn at random,
  the rest the largest residuals, and in the first steps also the samples
  whose function-space update ``K r = J (J^T r)`` (one vector-Jacobian and one
  Jacobian-vector product) is largest, a share that the reference recomputes
  every 10 rankings and lets fall as ``0.3 exp(-2 c // 10)`` until it is
  below 1e-3 (after about 30 rankings).

A sampler other than ``uniform`` becomes a :class:`Sampling`: what the one
training loop (:mod:`inr.train.fit`) needs to run it inside its jitted steps,
its state riding in the loop's extras (a ranking ``extra["order"]``, with
NINT's ``extra["ntk_rank"]``, or soft mining's ``extra["positions"]``) and
its random draws keyed by the step, so a resumed run trains on exactly the
samples an uninterrupted one would. The
ranked samplers' kept and mutated counts are fixed within a stage, so each
stage compiles once.
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

    def counts(self, steps: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(keep, mutate, due)`` of a ranking over ``n`` samples: the rows
        each step trains on, how many of them are drawn at random, and
        whether the rows are re-ranked first (always before the first step)."""
        keep = np.maximum(1, (self.kept(steps) * n).astype(np.int64))
        mutate = np.minimum((self.mutated(steps) * keep).astype(np.int64), keep - 1)
        due = self.refreshed(steps)
        due[0] = True
        return keep, mutate, due

    def make(self, steps: int, errors: SampleErrors, n: int, batch_size: int) -> Sampling:
        """This sampler made concrete for ``n`` samples and ``steps`` steps: a ranking."""
        return Ranked(self.fitness(errors), tuple(errors.keys), n, *self.counts(steps, n))


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
        return summed_abs_error(errors)

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


@register_variant(SamplerConfig, "soft_mining")
@dataclass
class SoftMiningSampler(SamplerConfig):
    name: str = "soft_mining"
    keep: float = 0.5
    """the share of the signal's samples each step trains on (full-batch training; with train.batch_size, that
    many)"""
    alpha: float = 0.6
    """the importance exponent's final value (the reference's 0.6; 0.8 for its forward-facing scenes)"""
    ramp: int = 1000
    """the exponent at step s is min(s / ramp, alpha)"""
    drift: float = 20.0 / 4096
    """Langevin step along the gradient of log loss per sample spacing, in units of the grid's box (the
    reference's a = 20 over its 4,096 rays)"""
    noise: float = 2.0e-2
    """standard deviation of the Langevin noise, in units of the box (the reference's b)"""
    uniform: float = 0.1
    """the share of positions redrawn uniformly every step"""
    reinit: float = 0.1
    """the share of positions with the least loss redrawn from the edge density every step"""

    def check(self) -> None:
        if not (0 < self.keep <= 1 and self.alpha >= 0 and self.ramp >= 1 and self.drift >= 0 and self.noise >= 0
                and 0 <= self.uniform < 1 and 0 <= self.reinit < 1 and self.uniform + self.reinit < 1):
            raise InrError("train.sampler (soft_mining): keep must be in (0, 1], alpha, drift and noise >= 0, "
                           "ramp >= 1, uniform and reinit in [0, 1) with uniform + reinit < 1")

    def make(self, steps: int, errors: SampleErrors, n: int, batch_size: int) -> Sampling:
        if errors.grid is None:
            raise InrError("train.sampler soft_mining moves samples on a full grid (an image with data.split all, "
                           "or audio), which this training does not have; use train.sampler evos or int")
        count = batch_size if 0 < batch_size < n else max(1, round(self.keep * n))
        return SoftMining(self, errors, n, count)


@register_variant(SamplerConfig, "nint")
@dataclass
class NintSampler(SamplerConfig):
    name: str = "nint"
    keep: float = 0.2
    """the fraction of the samples each step trains on (the reference's mt_ratio, constant)"""
    random: float = 0.7
    """the share of those drawn at random from the samples outside the ranked ones"""
    ntk: float = 0.3
    """the NTK-ranked share at the start (before its decay); the residual-ranked share is what is left"""
    ntk_every: int = 10
    """rankings between recomputations of the NTK scores (the reference's NTK_last_ite)"""
    interval: int = 1
    """steps between rankings (1: every step, the reference's dense strategy)"""

    def kept(self, steps: int) -> np.ndarray:
        return np.full(steps, self.keep)

    def mutated(self, steps: int) -> np.ndarray:
        return np.full(steps, self.random)

    def refreshed(self, steps: int) -> np.ndarray:
        return np.arange(steps) % self.interval == 0

    def fitness(self, errors: SampleErrors) -> Callable:
        return summed_abs_error(errors)

    def ntk_schedule(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """``(due, share)``: whether the NTK scores are recomputed before each
        step, and the share of the kept samples they choose there. The
        reference counts its rankings ``c`` from 1, recomputes at ``c = 1`` and
        at multiples of ``ntk_every``, with the share ``ntk exp(-2 c //
        ntk_every)``, and stops for good once that falls below 1e-3."""
        due, share = np.zeros(steps, bool), np.zeros(steps)
        for count, s in enumerate(np.flatnonzero(self.refreshed(steps)), start=1):
            if count == 1 or count % self.ntk_every == 0:
                value = self.ntk * float(np.exp((-2.0 * count) // self.ntk_every))
                share[s:] = value if value >= 1.0e-3 else 0.0  # it only falls, so this is for good
                due[s] = share[s] > 0
        return due, share

    def check(self) -> None:
        if not (0 < self.keep <= 1 and 0 <= self.random < 1 and 0 <= self.ntk <= 1 - self.random
                and self.ntk_every >= 1 and self.interval >= 1):
            raise InrError("train.sampler (nint): keep must be in (0, 1], random in [0, 1), ntk in [0, 1 - random], "
                           "ntk_every and interval >= 1")

    def make(self, steps: int, errors: SampleErrors, n: int, batch_size: int) -> Sampling:
        keep, mutate, due = self.counts(steps, n)
        ntk_due, share = self.ntk_schedule(steps)
        return Nint(self.fitness(errors), tuple(errors.keys), n, keep, mutate, due,
                    ntk_fitness=errors.function_space_update, ntk_due=ntk_due,
                    ntk_count=(share * keep).astype(np.int32))


def summed_abs_error(errors: SampleErrors) -> Callable:
    """``fitness(params, data) -> (n,)``: each sample's summed ``|f(x) - y|``, INT's and NINT's residual ranking."""
    return lambda params, data: jnp.sum(jnp.abs(errors.residuals(params, data)), axis=-1)


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

    def function_space_update(self, params, data):
        """Each sample's squared norm of ``K r = J (J^T r)``, ``(n,)``: how
        much one gradient step on the summed squared error moves the field
        there (``J`` the Jacobian of the predictions in the parameters, ``K``
        the empirical NTK, ``r`` the residuals); one vector-Jacobian product
        and one Jacobian-vector product, never ``K`` itself."""
        def predict(p):
            return self.predictions(p, data)

        predictions, pullback = jax.vjp(predict, params)
        (direction,) = pullback(predictions - self.targets(data))
        _, update = jax.jvp(predict, (params,), (direction,))
        return jnp.sum(update**2, axis=-1)

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


class Sampling:
    """A sampler made concrete for one signal size and step count: what the
    one training loop asks of it."""

    def start(self, n_fields: int | None = None) -> dict:
        """The sampler's initial state in the loop's extras (one per field of a stack)."""
        raise NotImplementedError

    def stage(self, step: int) -> tuple[int, int]:
        """Static counts of ``step``'s program; a new pair compiles a new one."""
        return 0, 0

    def stage_end(self, step: int, end: int) -> int:
        """``end``, or the first step before it where :meth:`stage` changes."""
        return end

    def prepare(self, data: dict) -> dict:
        """One field's ``data`` with what every step reads from it alone,
        computed once per jitted chunk rather than in every step."""
        return data

    def gradients(self, loss_fn: Callable, stacked: bool) -> Callable:
        """``grad(params, data, extra, step, key, k, m) -> (loss, grads, extra)``
        of one training step on :meth:`prepare`'d data, ``loss_fn`` the loop's
        (summed over a stack)."""
        raise NotImplementedError


def _tiled(tree: dict, n_fields: int | None) -> dict:
    return tree if n_fields is None else {k: jnp.tile(v, (n_fields,) + (1,) * v.ndim) for k, v in tree.items()}


@dataclass(frozen=True)
class Ranked(Sampling):
    """A ranking sampler (INT, EVOS). ``fitness(params, data) -> (n,)`` scores
    each row of ``data[keys]`` (one field; the loop vmaps it over a stack);
    ``keep[s]`` is the number of rows
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
        changes = np.flatnonzero((self.keep[step:end] != self.keep[step]) | (self.mutate[step:end] != self.mutate[step]))
        return step + int(changes[0]) if changes.size else end

    def start(self, n_fields: int | None = None) -> dict:
        return _tiled({"order": jnp.arange(self.n, dtype=jnp.int32)}, n_fields)

    def rank(self, params, data, first=None) -> jnp.ndarray:
        """Row indices, least fit (largest error) first; the rows where the
        mask ``first`` holds (if given) ahead of all others."""
        score = self.fitness(params, data)
        if first is not None:
            score = jnp.where(first, jnp.inf, score)
        return jnp.argsort(-score).astype(jnp.int32)

    def first(self, x: dict, step):
        """The rows a ranking at ``step`` puts first whatever their error (none here)."""
        return None

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

    def reorder(self, p, data, x, step) -> dict:
        """The extras with ``step``'s ranking: re-ranked when ``due[step]``."""
        return {**x, "order": jax.lax.cond(jnp.asarray(self.due)[step],
                                           lambda: self.rank(p, data, self.first(x, step)), lambda: x["order"])}

    def gradients(self, loss_fn: Callable, stacked: bool) -> Callable:
        """Re-rank the rows when ``due[step]``, keep ``k`` of them (``m`` drawn
        at random from outside the worst-fitted), differentiate ``loss_fn`` there."""
        reorder, select, fold = self.reorder, self.select, jax.random.fold_in
        if stacked:
            reorder = jax.vmap(reorder, in_axes=(0, 0, 0, None))
            select = jax.vmap(select, in_axes=(0, 0, 0, None, None))
            fold = jax.vmap(fold, in_axes=(0, None))

        def grad(p, data, x, step, key, k, m):
            x = reorder(p, data, x, step)
            loss, grads = jax.value_and_grad(loss_fn)(p, select(data, x["order"], fold(key, 1), k, m), key)
            return loss, grads, x

        return grad


@dataclass(frozen=True)
class Nint(Ranked):
    """NINT's ranking: the ``ntk_count[step]`` samples of largest
    ``ntk_fitness`` (recomputed when ``ntk_due[step]``, kept in between) come
    first, then the rest by residual."""

    ntk_fitness: Callable
    ntk_due: np.ndarray
    ntk_count: np.ndarray

    def start(self, n_fields: int | None = None) -> dict:
        # a rank of n for every sample: none is NTK-chosen before the first NTK scores
        return _tiled({"order": jnp.arange(self.n, dtype=jnp.int32),
                       "ntk_rank": jnp.full(self.n, self.n, jnp.int32)}, n_fields)

    def ntk_rank(self, params, data) -> jnp.ndarray:
        """Each sample's place when sorted by ``ntk_fitness``, largest first."""
        order = jnp.argsort(-self.ntk_fitness(params, data))
        return jnp.zeros(self.n, jnp.int32).at[order].set(jnp.arange(self.n, dtype=jnp.int32))

    def first(self, x: dict, step):
        return x["ntk_rank"] < jnp.asarray(self.ntk_count)[step]

    def reorder(self, p, data, x, step) -> dict:
        rank = jax.lax.cond(jnp.asarray(self.ntk_due)[step], lambda: self.ntk_rank(p, data), lambda: x["ntk_rank"])
        return super().reorder(p, data, {**x, "ntk_rank": rank}, step)


@dataclass(frozen=True)
class SoftMining(Sampling):
    """Soft mining made concrete: ``count`` positions on the grid of ``errors``."""

    cfg: SoftMiningSampler
    errors: SampleErrors
    n: int
    count: int

    @property
    def shape(self) -> np.ndarray:
        return np.asarray(self.errors.grid)

    def start(self, n_fields: int | None = None) -> dict:
        # a fixed uniform draw: the run's seed moves the weights, not where the samples start
        positions = jax.random.uniform(jax.random.PRNGKey(0), (self.count, len(self.errors.grid)))
        return _tiled({"positions": positions}, n_fields)

    def rows(self, positions) -> jnp.ndarray:
        """The flat index of the sample nearest each position in [0, 1]^d."""
        index = jnp.round(positions * (self.shape - 1)).astype(jnp.int32)
        return jnp.ravel_multi_index(tuple(index.T), tuple(self.errors.grid), mode="clip")

    def edge_density(self, data) -> jnp.ndarray:
        """Each sample's share of the targets' gradient magnitude (central
        differences, edges replicated; normalised by its maximum and clipped
        to [1e-5, 1] as the reference's Sobel edges are), ``(n,)``."""
        t = self.errors.targets(data).reshape(*self.errors.grid, -1)
        padded = jnp.pad(t, [(1, 1)] * len(self.errors.grid) + [(0, 0)], mode="edge")
        centre = [slice(1, -1)] * len(self.errors.grid)
        squared = 0.0
        for axis, n in enumerate(self.errors.grid):
            ahead, behind = list(centre), list(centre)
            ahead[axis], behind[axis] = slice(2, n + 2), slice(0, n)
            squared = squared + jnp.sum((padded[tuple(ahead)] - padded[tuple(behind)]) ** 2, axis=-1)
        edges = jnp.sqrt(squared).ravel()
        edges = jnp.clip(edges / (jnp.max(edges) + 1e-7), 1e-5, 1.0)
        return edges / jnp.sum(edges)

    def prepare(self, data: dict) -> dict:
        """The edge density's cumulative sum, which the redraws search, once a chunk."""
        return {**data, "edge_cdf": jnp.cumsum(self.edge_density(data))}

    def _weighted_loss(self, data, exponent):
        coords_key = self.errors.keys[0]

        def loss(p, shift):
            r = self.errors.residuals(p, {**data, coords_key: data[coords_key] + shift})
            importance = jnp.maximum(jnp.mean(jnp.abs(r), axis=-1), 2.0**-10)  # float16's eps, as the reference
            w = importance ** (-exponent)
            w = jax.lax.stop_gradient(jnp.clip(w, 0.2, jnp.maximum(jnp.mean(w) + jnp.std(w), 0.2)))
            return jnp.mean(w[:, None] * r**2), (jnp.mean(r**2, axis=-1), w)

        return loss

    def field_step(self, p, data, x, step, key):
        """One field's step on :meth:`prepare`'d ``data``: loss, gradients and the moved positions."""
        cfg, grid = self.cfg, tuple(self.errors.grid)
        exponent = jnp.minimum(step / cfg.ramp, cfg.alpha)
        if self.count >= self.n:  # every sample every step: only the weighting is left
            loss = self._weighted_loss(data, exponent)
            (value, _), grads = jax.value_and_grad(loss, has_aux=True)(p, 0.0)
            return value, grads, x
        rows = self.rows(x["positions"])
        batch = {name: (a[rows] if name in self.errors.keys else a) for name, a in data.items()}
        loss = self._weighted_loss(batch, exponent)
        shift = jnp.zeros_like(batch[self.errors.keys[0]])
        (value, (per_sample, w)), (grads, moved) = jax.value_and_grad(loss, (0, 1), has_aux=True)(p, shift)
        # moved_i = w_i grad(l_i) / count, so grad(log l_i) = moved_i count / (w_i l_i); coordinates span 2 / n a
        # sample along an axis of n
        log_grad = moved * self.count / (w * per_sample + 1e-12)[:, None] * (2.0 / jnp.asarray(grid))
        k_noise, k_edge, k_uniform = jax.random.split(key, 3)
        positions = (x["positions"] + cfg.drift * log_grad
                     + cfg.noise * jax.random.normal(k_noise, x["positions"].shape))
        n_reinit, n_uniform = int(cfg.reinit * self.count), int(cfg.uniform * self.count)
        least = jnp.zeros(self.count, bool)
        if n_reinit > 0:
            least = least.at[jax.lax.top_k(-per_sample, n_reinit)[1]].set(True)
        outside = jnp.any((positions < 0) | (positions > 1), axis=-1)
        cdf = data["edge_cdf"]
        drawn = jnp.searchsorted(cdf, jax.random.uniform(k_edge, (self.count,)) * cdf[-1], side="right")
        edge = jnp.stack(jnp.unravel_index(jnp.minimum(drawn, self.n - 1), grid), -1) / (self.shape - 1)
        positions = jnp.where((least | outside)[:, None], edge, positions)
        if n_uniform > 0:
            positions = positions.at[-n_uniform:].set(jax.random.uniform(k_uniform, (n_uniform, len(grid))))
        return value, grads, {**x, "positions": jnp.clip(positions, 0.0, 1.0)}

    def gradients(self, loss_fn: Callable, stacked: bool) -> Callable:
        """Soft mining trains on its own importance-weighted squared error of
        ``errors`` (the image and audio losses' MSE with weights), not on ``loss_fn``."""
        if not stacked:
            return lambda p, data, x, step, key, k, m: self.field_step(p, data, x, step, key)
        steps = jax.vmap(self.field_step, in_axes=(0, 0, 0, None, 0))

        def grad(p, data, x, step, key, k, m):
            value, grads, x = steps(p, data, x, step, key)
            return jnp.sum(value), grads, x

        return grad


def make_sampling(cfg: SamplerConfig, steps: int, errors: SampleErrors | None, data: dict,
                  modality: str, batch_size: int = 0) -> Sampling | None:
    """The :class:`Sampling` of ``cfg`` over the rows of one field's ``data``
    (the loop vmaps it over a stack of such fields), or None for ``uniform``.
    ``errors`` is the modality's, None where its training has no fixed samples
    to rank; ``batch_size`` the training's minibatch (0: full batch)."""
    cfg.check()
    if isinstance(cfg, UniformSampler):
        return None
    if errors is None:
        raise InrError(f"train.sampler {cfg.name} ranks the signal's samples by their error, but this {modality} "
                       "training draws fresh points every step (an SDF's data.loss siren); use data.loss sdf, "
                       "or train.sampler: uniform")
    return cfg.make(steps, errors, int(data[errors.keys[0]].shape[0]), batch_size)
