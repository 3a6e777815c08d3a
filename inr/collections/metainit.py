"""A shared init learned for a collection by MAML (Finn et al. 2017; for neural
fields, Tancik et al. 2021, "Learned Initializations for Optimizing
Coordinate-Based Neural Representations").

The inner loop is the collection's own fit, its ``train`` section (optimizer,
steps, schedule) written for one signal and vmapped over a batch, as functa
does; the outer loop (Adam, ``collection.meta``) moves the init, and with
``meta.learn_lr`` the inner learning rate, to lower the loss the fit reaches.
The outer loop runs through the ordinary fit loop, so it shows progress,
checkpoints, resumes and stops on NaN like any fit.

Few steps from a learned init change the weights smoothly with the signal,
which a weight-space model needs (scripts/bench_predictability.py). The output
directory holds the init as a field (``collection.init: field`` starts from
it) and ``collection.yaml``, the config that fits the collection from it.
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from inr.atomic import write_json, write_text
from inr.collections.config import CollectionRunConfig
from inr.collections.fitmany import check_real_weights, stack_training_data
from inr.collections.sources import list_items
from inr.config import dump_yaml
from inr.errors import InrError
from inr.fields.io import params_template, save_field
from inr.modalities import MODALITIES
from inr.plots import curve_png, drawn
from inr.rundir import building, check_output
from inr.runs import CHECKPOINT, CONFIG, field_for
from inr.train.config import TrainConfig
from inr.train.fit import fit, restore, start_state
from inr.train.samplers import signal_fits_only
from inr.train.optim import make_optimizer

COLLECTION_CONFIG = "collection.yaml"
PROBE = 64  # signals whose fitted score the progress bar shows


def make_adapt(loss, train: TrainConfig):
    """``adapt(init, log_lr, data, key) -> params``: ``train.steps`` steps of the
    collection's fit on one signal, with the learning rate ``exp(log_lr)``.
    Every registered optimizer's update is linear in its learning rate, so the
    fit with lr 1 is run and its updates scaled."""
    unit = make_optimizer(dataclasses.replace(train, lr=1.0))

    def adapt(init, log_lr, data, key):
        def step(carry, i):
            p, s = carry
            updates, s = unit.update(jax.grad(loss)(p, data, jax.random.fold_in(key, i)), s, p)
            scale = jnp.exp(log_lr)
            return (optax.apply_updates(p, jax.tree_util.tree_map(lambda u: scale * u, updates)), s), None

        return jax.lax.scan(step, (init, unit.init(init)), jnp.arange(train.steps))[0][0]

    return adapt


def make_meta_loss(loss, train: TrainConfig, batch_size: int, n_signals: int, learn_lr: bool = True):
    """``meta_loss(meta_params, all_data, key)``: the mean loss after the fit, over
    ``batch_size`` signals drawn by ``key``; ``meta_params`` is {init, log_lr}
    (held fixed unless ``learn_lr``)."""
    adapt = make_adapt(loss, train)

    def one(meta, data, key):
        log_lr = meta["log_lr"] if learn_lr else jax.lax.stop_gradient(meta["log_lr"])
        return loss(adapt(meta["init"], log_lr, data, key), data, key)

    def meta_loss(meta, all_data, key):
        pick, fits = jax.random.split(key)
        idx = jax.random.choice(pick, n_signals, (batch_size,), replace=False)
        batch = jax.tree_util.tree_map(lambda a: a[idx], all_data)
        return jnp.mean(jax.vmap(one, in_axes=(None, 0, 0))(meta, batch, jax.random.split(fits, batch_size)))

    return meta_loss


def _check(cfg: CollectionRunConfig, field) -> None:
    m, t = cfg.collection.meta, cfg.train
    if m.batch_size < 1:
        raise InrError(f"collection.meta.batch_size must be >= 1 (got {m.batch_size})")
    signal_fits_only(t.sampler, "meta-init's short inner fits")
    if t.steps > 100:
        raise InrError(f"train.steps = {t.steps}: meta-init differentiates through every step of the fit; "
                       "learn an init for a short fit (at most 100 steps)")
    if field.training_hooks(t.steps):
        raise InrError(f"the {cfg.model.encoding.name} encoding changes between steps; meta-init cannot learn "
                       "through it")
    check_real_weights(params_template(field), cfg)


def meta_init(cfg: CollectionRunConfig, out, *, resume: bool = False, overwrite: bool = False,
              quiet: bool = False) -> dict:
    """Learn the init for ``cfg``'s collection into ``out``; return a summary."""
    out = Path(out)
    modality = MODALITIES.get(cfg.modality)
    items = list_items(cfg.input, modality, cfg.data, cfg.collection.limit)
    first = items[0].load()
    cfg, field = field_for(cfg, modality, first)
    _check(cfg, field)
    m = cfg.collection.meta
    if m.batch_size > len(items):
        raise InrError(f"{cfg.input}: {len(items)} signals, fewer than collection.meta.batch_size = {m.batch_size}")
    check_output(out, overwrite=overwrite, resume=resume, marker=CHECKPOINT)
    data = stack_training_data([modality.training_data(item.load(), cfg.data) for item in
                                tqdm(items, disable=quiet, desc="load", unit="signal", dynamic_ncols=True)], cfg.input)
    loss = modality.loss(field.apply, cfg.data, cfg.train)
    outer_cfg = m.train
    outer = make_optimizer(outer_cfg)
    init_key, train_key = jax.random.split(jax.random.PRNGKey(cfg.seed))
    start = {"init": field.init(init_key), "log_lr": jnp.asarray(math.log(cfg.train.lr), jnp.float32)}
    state = start_state(start, outer, outer_cfg)

    adapt = jax.vmap(make_adapt(loss, cfg.train), in_axes=(None, None, 0, 0))
    score = jax.vmap(modality.score(field.apply, cfg.data))
    probe = jax.tree_util.tree_map(lambda a: a[:PROBE], data)
    probe_keys = jax.random.split(jax.random.PRNGKey(cfg.seed + 1), min(PROBE, len(items)))

    @jax.jit
    def probe_scores(meta):
        return score(adapt(meta["init"], meta["log_lr"], probe, probe_keys), probe)

    def evaluate(meta):
        return {f"{k}_fitted": float(np.mean(v)) for k, v in jax.device_get(probe_scores(meta)).items()} | {
            "lr": float(jnp.exp(meta["log_lr"]))}

    with building(out, overwrite=overwrite, resume=resume, marker=CHECKPOINT) as work:
        if resume:
            state = restore(work / CHECKPOINT, state)
        else:
            write_text(work / CONFIG, dump_yaml(cfg))
        before = evaluate(start)
        t0 = time.perf_counter()
        meta_loss = make_meta_loss(loss, cfg.train, m.batch_size, len(items), m.learn_lr)
        state = fit(meta_loss, state, data, outer_cfg, outer, key=train_key, evaluate=evaluate, checkpoint=work / CHECKPOINT, quiet=quiet,
                    desc=f"meta-init {out.name}")
        lr = float(jnp.exp(state.params["log_lr"]))
        save_field(work, field, state.params["init"], modality.metadata(first, cfg.data))
        collection_cfg = dataclasses.replace(
            cfg, train=dataclasses.replace(cfg.train, lr=lr),
            collection=dataclasses.replace(cfg.collection, init="field", init_field=str(out.resolve())))
        write_text(work / COLLECTION_CONFIG, dump_yaml(collection_cfg))
        summary = {"signals": len(items), "outer_steps": state.step, "seconds": time.perf_counter() - t0,
                   "lr": lr, "random_init": before, "learned_init": evaluate(state.params)}
        write_json(work / "metrics.json", summary)
        write_json(work / "history.json", state.history)
        key = modality.metric[0]
        drawn(work / "curve.png", lambda: curve_png(state.history, work / "curve.png", f"{key}_fitted",
                                                    f"{key} after the fit ({PROBE} signals)"))
    return summary
