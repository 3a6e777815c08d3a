"""The fit loop: jitted chunks of ``lax.scan`` steps, progress, checkpoints, NaN stop.

Minibatch keys are ``fold_in(key, step)`` and chunk boundaries fall on fixed
multiples of ``steps_per_call``, so a resumed run replays exactly the steps an
uninterrupted one would.
"""
from __future__ import annotations

import functools
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from inr.errors import DivergedError
from inr.train.checkpoint import FitState, load_checkpoint, save_checkpoint
from inr.train.config import TrainConfig
from inr.train.optim import make_optimizer
from inr.train.samplers import Sampling


def _all_finite(tree):
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def _stacked(loss_fn, optimizer, hooks):
    """The single-field pieces lifted to a stack of fields on a leading axis.

    The losses are summed, so each field gets exactly its own gradient; the
    optimizer update is vmapped, so global-norm clipping and schedules act per
    field as they would alone; the per-field keys are folded with the step."""
    return (
        lambda p, d, keys: jnp.sum(jax.vmap(loss_fn)(p, d, keys)),
        jax.vmap(optimizer.update),
        jax.vmap(jax.random.fold_in, in_axes=(0, None)),
        tuple((every, jax.vmap(h)) for every, h in hooks),
        jax.vmap(_all_finite),
    )


def _ema_update(decay: float):
    return lambda ema, p: jax.tree_util.tree_map(lambda e, x: decay * e + (1 - decay) * x, ema, p)


def make_chunk_fn(loss_fn: Callable, optimizer: optax.GradientTransformation, hooks=(), stacked: bool = False,
                  ema: float = 0.0, sampling: Sampling | None = None):
    """``chunk(params, opt_state, extra, data, key, start, n, k, m) -> (params, opt_state, extra, losses, finite)``.

    ``hooks`` are ``(every, fn(params, data) -> params)`` pairs applied inside
    the scan after every ``every``-th step, so they cost no host round trip.
    With ``ema`` > 0, ``extra["ema"]`` follows the weights after every step.
    With a ``sampling`` (:mod:`inr.train.samplers`), each step's gradients
    come from :meth:`~inr.train.samplers.Sampling.gradients`, which picks the
    samples (for a ranking, the ``k`` rows ranked worst in ``extra["order"]``;
    ``k`` and ``m`` are static, so the loop runs one stage per call).
    With ``stacked``, params, opt_state, data and key carry a leading field
    axis and ``finite`` is per field; the single-field functions are reused
    through ``vmap``."""
    update, fold, all_finite = optimizer.update, jax.random.fold_in, _all_finite
    if stacked:
        loss_fn, update, fold, hooks, all_finite = _stacked(loss_fn, optimizer, hooks)
    if sampling is not None:
        gradients = sampling.gradients(loss_fn, stacked)
        prepare = jax.vmap(sampling.prepare) if stacked else sampling.prepare
    else:
        def gradients(p, data, x, step, key, k, m):
            return *jax.value_and_grad(loss_fn)(p, data, key), x

        def prepare(data):
            return data
    follow = _ema_update(ema) if ema > 0 else None

    def chunk(params, opt_state, extra, data, key, start, n, k=0, m=0):
        data = prepare(data)  # the sampler's per-signal work, once a chunk

        def body(carry, i):
            p, s, x = carry
            loss, grads, x = gradients(p, data, x, start + i, fold(key, start + i), k, m)
            # jax.grad of a real loss gives the conjugate of a complex parameter's descent direction
            grads = jax.tree_util.tree_map(lambda g: jnp.conj(g) if jnp.iscomplexobj(g) else g, grads)
            updates, s = update(grads, s, p)
            p = optax.apply_updates(p, updates)
            for every, hook in hooks:
                p = jax.lax.cond((start + i + 1) % every == 0, hook, lambda q, _: q, p, data)
            if follow is not None:
                x = {**x, "ema": follow(x["ema"], p)}
            return (p, s, x), loss

        (params, opt_state, extra), losses = jax.lax.scan(body, (params, opt_state, extra), jnp.arange(n))
        # a field whose loss went NaN has NaN weights after the update
        finite = all_finite(params) if stacked else jnp.all(jnp.isfinite(losses)) & all_finite(params)
        return params, opt_state, extra, losses, finite

    return jax.jit(chunk, static_argnames=("n", "k", "m"))


@dataclass(frozen=True)
class Select:
    """Keep the weights that score best on ``metric`` (a key ``evaluate``
    returns) in ``extra["best"]``, with the score and its step: best-validation
    weights. ``mode`` is max or min."""

    metric: str
    mode: str = "max"

    def better(self, new: float, old: float) -> bool:
        return bool(new > old) if self.mode == "max" else bool(new < old)

    @property
    def worst(self) -> float:
        return -np.inf if self.mode == "max" else np.inf


def start_state(params, optimizer: optax.GradientTransformation, cfg: TrainConfig, *, select: Select | None = None,
                stacked: bool = False, sampling: Sampling | None = None) -> FitState:
    """The state a run starts from (and the template its checkpoint loads into):
    the optimizer's state, the EMA of ``cfg.ema``, the best-weights slot of
    ``select`` and the state of ``sampling`` (its ranking or positions)."""
    extra = {}
    if sampling is not None:
        extra.update(sampling.start(jax.tree_util.tree_leaves(params)[0].shape[0] if stacked else None))
    if cfg.ema > 0:
        extra["ema"] = params
    if select is not None:
        extra.update(best=params, best_score=jnp.asarray(select.worst, jnp.float32), best_step=jnp.asarray(0))
    return FitState(params, init_opt_state(optimizer, params, stacked), extra=extra)


def init_opt_state(optimizer: optax.GradientTransformation, params, stacked: bool = False):
    """``optimizer.init`` as one compiled call (eagerly, each leaf's shape would compile its own zeros)."""
    return _compiled_init(optimizer.init, stacked)(params)


@functools.lru_cache(maxsize=16)
def _compiled_init(init, stacked: bool):
    """One jitted (and, for stacked fields, vmapped) ``init`` per optimizer, so
    fit-many's chunks reuse it instead of tracing a fresh vmap each time."""
    return jax.jit(jax.vmap(init) if stacked else init)


def restore(path, template: FitState) -> FitState:
    """The checkpoint at ``path`` loaded into the structure of ``template``
    (a :func:`start_state`), extras included."""
    return load_checkpoint(path, template.params, template.opt_state, template.extra)


def _chunk_end(step: int, cfg: TrainConfig, sampling: Sampling | None = None) -> int:
    per = max(cfg.steps_per_call, 1)
    end = min((step // per + 1) * per, cfg.steps)
    return end if sampling is None else sampling.stage_end(step, end)


def fit(
    loss_fn: Callable,
    state: FitState,
    data: dict,
    cfg: TrainConfig,
    optimizer: optax.GradientTransformation | None = None,
    *,
    key,
    evaluate: Callable[[dict], dict] | None = None,
    select: Select | None = None,
    checkpoint: Path | None = None,
    quiet: bool = False,
    desc: str = "fit",
    stop_at: int | None = None,
    hooks=(),
    stacked: bool = False,
    chunk: Callable | None = None,
    sampling: Sampling | None = None,
) -> FitState:
    """Run ``cfg.steps`` optimisation steps from ``state`` and return the final state.

    The one training loop of the project: single fits, fit-many chunks,
    meta-init's outer loop, weight-space models, denoisers and the evaluation
    classifier all run here. ``loss_fn(params, data, key) -> scalar`` is the
    only thing a caller must bring; ``optimizer`` defaults to ``cfg``'s
    (:func:`inr.train.optim.make_optimizer`); ``state`` comes from
    :func:`start_state` (or a checkpoint loaded into it).
    ``evaluate(params) -> {name: float}`` is logged after every chunk, and with
    ``select`` the best-scoring weights are kept in ``state.extra["best"]``.
    ``cfg.ema`` keeps a moving average of the weights in ``state.extra["ema"]``.
    ``hooks`` are ``(every, fn(params, data) -> params)`` pairs run inside the
    jitted steps after every ``every``-th step (SAPE's progression).
    ``stop_at`` ends this call early at that step (a chunk boundary), as an
    interruption would; the schedule still spans ``cfg.steps``. So does
    ``cfg.max_seconds``, a wall-time budget.
    With ``stacked`` the state holds a stack of fields (leading axis) fitted
    together, ``key`` is one key per field, and the logged loss is their sum.
    ``sampling`` (:func:`inr.train.samplers.make_sampling` of ``cfg.sampler``)
    picks each step's samples; ``state`` must then come from
    ``start_state(..., sampling=sampling)``.
    Raises :class:`DivergedError` on a non-finite loss, leaving the last good
    checkpoint on disk. ``chunk`` is a prebuilt :func:`make_chunk_fn` of the
    same arguments, to compile once for many calls.
    """
    optimizer = optimizer or make_optimizer(cfg)
    chunk = chunk or make_chunk_fn(loss_fn, optimizer, tuple(hooks), stacked, cfg.ema, sampling)
    if checkpoint is not None and state.step == 0:
        save_checkpoint(checkpoint, state)
    last_saved = state.step
    bar = tqdm(total=cfg.steps, initial=state.step, disable=quiet, desc=desc, unit="step", dynamic_ncols=True)
    try:
        while state.step < min(cfg.steps, stop_at or cfg.steps):
            if cfg.max_seconds > 0 and state.seconds >= cfg.max_seconds:
                break
            end = _chunk_end(state.step, cfg, sampling)
            k, m = sampling.stage(state.step) if sampling is not None else (0, 0)
            t0 = time.perf_counter()
            params, opt_state, extra, losses, finite = chunk(
                state.params, state.opt_state, state.extra, data, key, state.step, n=end - state.step, k=k, m=m
            )
            losses = jax.device_get(losses)
            dt = time.perf_counter() - t0
            if not bool(jnp.all(finite)):
                where = f" (last good checkpoint, step {last_saved}, kept in {checkpoint})" if checkpoint else ""
                which = f" in fields {jnp.flatnonzero(~finite)[:10].tolist()}" if stacked else ""
                raise DivergedError(
                    f"training diverged{which}: non-finite loss or weights between steps {state.step} and {end}"
                    f"{where}; try a lower train.lr"
                )
            record = {"step": end, "seconds": state.seconds + dt, "loss": float(losses[-1]),
                      "loss_mean": float(np.mean(losses))}
            if evaluate is not None:
                record.update(evaluate(params))
            if select is not None and select.better(record[select.metric], float(extra["best_score"])):
                extra = {**extra, "best": params, "best_score": jnp.asarray(record[select.metric], jnp.float32),
                         "best_step": jnp.asarray(end)}
            state = FitState(params, opt_state, end, state.seconds + dt, state.history + [record], extra)
            bar.update(end - bar.n)
            bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k not in ("step", "seconds")})
            out_of_time = 0 < cfg.max_seconds <= state.seconds
            if checkpoint is not None and (end - last_saved >= cfg.checkpoint_every or end in (cfg.steps, stop_at)
                                           or out_of_time):
                save_checkpoint(checkpoint, state)
                last_saved = end
    finally:
        bar.close()
    return state


def seconds_per_step(step_times_history: list[dict]) -> float:
    """Median seconds per step from history records, skipping the first
    (compile) chunk when there is more than one."""
    rates = []
    prev_step, prev_sec = 0, 0.0
    for rec in step_times_history:
        n = rec["step"] - prev_step
        if n > 0:
            rates.append((rec["seconds"] - prev_sec) / n)
        prev_step, prev_sec = rec["step"], rec["seconds"]
    if len(rates) > 1:
        rates = rates[1:]
    return statistics.median(rates) if rates else float("nan")
