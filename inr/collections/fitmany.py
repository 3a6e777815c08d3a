"""Fit every signal of a source into a collection, a chunk of fields at a time.

A chunk's fields are stacked on a leading axis, sharded over this process's
devices, and trained by the same fit loop as a single field (``stacked=True``).
Chunk c holds fields ``[c * size, (c + 1) * size)`` whatever the number of
processes, so the weights do not depend on how the work was split; process p
fits the chunks with ``c % n_processes == p`` and process 0 merges the parts.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm.auto import tqdm

from inr.atomic import write_text
from inr.collections.config import CollectionRunConfig
from inr.collections.format import PARTS, WEIGHTS, merge, part_path, write_part
from inr.collections.sources import list_items
from inr.config import dump_yaml
from inr.errors import InrError
from inr.fields.io import load_field, params_template
from inr.fields.layout import flatten
from inr.modalities import MODALITIES
from inr.registry import Registry
from inr.rundir import building, check_output, partial_path
from inr.runs import CONFIG, field_for, sampling_for
from inr.train.fit import fit, make_chunk_fn, restore, start_state
from inr.train.optim import make_optimizer

# init mode -> make(field, cfg) -> params_for(js, ks): stacked params for fields js,
# where ks[i] says which of its signal's K fits field js[i] is
INITS: Registry = Registry("collection init")


def _field_keys(seeds, which: int):
    """Key ``which`` of ``split(PRNGKey(seed))`` per seed: 0 initialises, 1 trains,
    exactly as a single run with that seed."""
    return jax.vmap(lambda s: jax.random.split(jax.random.PRNGKey(s))[which])(jnp.asarray(seeds, jnp.uint32))


def _broadcast(params, n: int):
    return jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n,) + a.shape), params)


@INITS.register("random")
def _random(field, cfg):
    init = jax.jit(jax.vmap(field.init))
    return lambda js, ks: init(_field_keys([cfg.seed + j for j in js], 0))


@INITS.register("shared")
def _shared(field, cfg):
    """One init per repeat k, shared by all signals."""
    init = jax.jit(jax.vmap(field.init))
    return lambda js, ks: init(_field_keys([cfg.seed + k for k in ks], 0))


@INITS.register("field")
def _from_field(field, cfg):
    path = cfg.collection.init_field
    if not path:
        raise InrError("collection.init: field needs collection.init_field (a fitted run directory)")
    start, params, _ = load_field(path)
    if start.model != field.model or (start.in_dim, start.out_dim) != (field.in_dim, field.out_dim):
        raise InrError(f"{path}: its field spec differs from this collection's model; fit it with the same config")
    return lambda js, ks: _broadcast(params, len(js))


def _stack(trees):
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def stack_training_data(per_field: list[dict], source) -> dict:
    """The signals' training data stacked on a leading field axis; they must share one size."""
    shapes = {tuple((k, v.shape) for k, v in sorted(d.items())) for d in per_field}
    if len(shapes) > 1:
        raise InrError(f"{source}: the signals differ in size; a collection needs one size (set data.resize)")
    return _stack(per_field)


def check_real_weights(params, cfg) -> None:
    """A collection stores float32 weights: complex ones (WIRE) are an error."""
    if any(jnp.iscomplexobj(x) for x in jax.tree_util.tree_leaves(params)):
        raise InrError(f"model.activation {cfg.model.activation.name}: complex weights cannot be stored in a collection")


class _Plan:
    """The fixed assignment of fields to chunks: ``size`` fields per chunk
    whatever the devices (so a run resumes on other hardware), each chunk
    padded to a multiple of the device count."""

    def __init__(self, items, fits_per_signal: int, chunk_size: int, n_devices: int):
        self.jobs = [(item, k) for item in items for k in range(fits_per_signal)]
        self.size = min(chunk_size, len(self.jobs))
        self.padded = math.ceil(self.size / n_devices) * n_devices
        self.n_chunks = math.ceil(len(self.jobs) / self.size)

    def chunk(self, c: int) -> tuple[list, int]:
        """The chunk's (field index, item, k) padded with copies of its last
        field, and how many are real."""
        real = [(j, *self.jobs[j]) for j in range(c * self.size, min((c + 1) * self.size, len(self.jobs)))]
        return real + [real[-1]] * (self.padded - len(real)), len(real)


def fit_many(cfg: CollectionRunConfig, out, *, resume: bool = False, overwrite: bool = False,
             quiet: bool = False) -> dict:
    """Fit the collection described by ``cfg`` into ``out``; return a summary."""
    out = Path(out)
    modality = MODALITIES.get(cfg.modality)
    ccfg = cfg.collection
    if ccfg.fits_per_signal < 1 or ccfg.chunk_size < 1:
        raise InrError("collection.fits_per_signal and collection.chunk_size must be >= 1")
    items = list_items(cfg.input, modality, cfg.data, ccfg.limit)
    if resume and (out / WEIGHTS).is_file() and not partial_path(out).exists():
        return {"collection": str(out), "fields": len(items) * ccfg.fits_per_signal, "already_complete": True}
    owner = jax.process_index() == 0
    if owner:
        check_output(out, overwrite=overwrite, resume=resume, marker=CONFIG)
    first = items[0].load()
    cfg, field = field_for(cfg, modality, first)
    # every field of a collection has the same samples, so the first one's data sizes the sampler
    sampling = sampling_for(modality, field, cfg, first, modality.training_data(first, cfg.data))
    params_for = INITS.get(ccfg.init)(field, cfg)
    optimizer = make_optimizer(cfg.train)
    loss = modality.loss(field.apply, cfg.data, cfg.train)
    template = params_template(field)
    check_real_weights(template, cfg)
    with building(out, overwrite=overwrite, resume=resume, marker=CONFIG, keep=f"{PARTS}/*", owner=owner) as work:
        if owner and not resume:
            write_text(work / CONFIG, dump_yaml(cfg))
        _barrier("inr-fit-many-prepared")
        return _fit_all(cfg, modality, items, field, params_for, optimizer, loss, sampling, template, out, work,
                        resume, quiet)


def _fit_all(cfg, modality, items, field, params_for, optimizer, loss, sampling, template, out, work, resume,
             quiet) -> dict:
    """Fit this process's chunks into parts under ``work``; process 0 merges them."""
    ccfg = cfg.collection
    devices = jax.local_devices()
    sharding = NamedSharding(Mesh(np.asarray(devices), ("fields",)), PartitionSpec("fields"))
    plan = _Plan(items, ccfg.fits_per_signal, ccfg.chunk_size, len(devices))
    hooks = tuple(field.training_hooks(cfg.train.steps))
    chunk_fn = make_chunk_fn(loss, optimizer, hooks, stacked=True, sampling=sampling)
    score = jax.jit(jax.vmap(modality.score(field.apply, cfg.data)))

    def evaluate(params, data, n_real):
        s = {k: v[:n_real] for k, v in jax.device_get(score(params, data)).items()}  # padding excluded
        return {f"{k}_mean": float(np.mean(v)) for k, v in s.items()} | {
            f"{k}_min": float(np.min(v)) for k, v in s.items()}

    mine = [c for c in range(plan.n_chunks) if c % jax.process_count() == jax.process_index()]
    bar = tqdm(total=sum(plan.chunk(c)[1] for c in mine), disable=quiet, desc=f"fit-many {out.name}",
               unit="field", dynamic_ncols=True)
    t0 = time.perf_counter()
    try:
        for c in mine:
            n_real = plan.chunk(c)[1]
            if not part_path(work, c).is_file():
                _fit_chunk(c, plan, cfg, modality, field, params_for, optimizer, loss, hooks, chunk_fn, sampling,
                           score, evaluate, sharding, work, resume)
            bar.update(n_real)
    finally:
        bar.close()
    summary = {"collection": str(out), "fields": len(plan.jobs), "chunks": plan.n_chunks,
               "chunk_size": plan.size, "devices": len(devices), "process": jax.process_index(),
               "processes": jax.process_count(), "seconds": time.perf_counter() - t0}
    _barrier("inr-fit-many-parts-written")
    if jax.process_index() == 0:
        missing = [c for c in range(plan.n_chunks) if not part_path(work, c).is_file()]
        if missing:
            raise InrError(f"{out}: parts {missing[:5]} are missing; continue with --resume")
        merge(work, plan.n_chunks, field, template, _header(cfg, modality, items[0], plan))
    return summary


def _header(cfg, modality, first, plan) -> dict:
    """Manifest entries shared by all fields (per-signal sources go in the field records)."""
    meta = modality.metadata(first.load(), cfg.data)
    signal = {k: v for k, v in meta.pop("signal", {}).items() if k not in ("source", "original_shape")}
    return {"source": str(cfg.input), "init": cfg.collection.init, "fits_per_signal": cfg.collection.fits_per_signal,
            "chunk_size": plan.size, **meta, "signal": signal}


def _barrier(name: str) -> None:
    """Wait for every process of a multi-process run (no-op for one)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def _fit_chunk(c, plan, cfg, modality, field, params_for, optimizer, loss, hooks, chunk_fn, sampling, score,
               evaluate, sharding, out, resume) -> None:
    jobs, n_real = plan.chunk(c)
    signals = {}
    for _, item, _ in jobs:
        if item.index not in signals:
            signals[item.index] = item.load()
    per_field = [modality.training_data(signals[item.index], cfg.data) for _, item, _ in jobs]
    put = lambda tree: jax.device_put(tree, sharding)  # noqa: E731
    data = put(stack_training_data(per_field, cfg.input))
    params = put(params_for([j for j, _, _ in jobs], [k for _, _, k in jobs]))
    keys = put(_field_keys([cfg.seed + j for j, _, _ in jobs], 1))
    state = start_state(params, optimizer, cfg.train, stacked=True, sampling=sampling)
    ckpt = part_path(out, c).with_suffix(".ckpt.safetensors")
    if resume and ckpt.is_file():
        state = restore(ckpt, state)
    state.params, state.opt_state, state.extra = put(state.params), put(state.opt_state), put(state.extra)
    state = fit(loss, state, data, cfg.train, optimizer, key=keys, evaluate=lambda p: evaluate(p, data, n_real),
                checkpoint=ckpt, quiet=True, hooks=hooks, stacked=True, chunk=chunk_fn, sampling=sampling)
    scores = jax.device_get(score(state.params, data))
    flat = np.asarray(jax.vmap(flatten)(state.params))[:n_real]
    records = [{"index": j, "source": item.source, "label": item.label, "seed": cfg.seed + j, "fit": k,
                "chunk": c, "metrics": {name: float(v[i]) for name, v in scores.items()}}
               for i, (j, item, k) in enumerate(jobs[:n_real])]
    write_part(out, c, flat, records, history=state.history)
    ckpt.unlink(missing_ok=True)
