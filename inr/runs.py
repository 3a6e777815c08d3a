"""Fitting one signal into a run directory, and reading runs back.

A run directory holds ``config.yaml`` (resolved), ``checkpoint.safetensors``
(resumable state), ``field.safetensors`` + ``field.json``, the modality's
outputs, ``metrics.json``, ``history.json`` and ``curve.png``.
"""
from __future__ import annotations

import json
from dataclasses import replace
from importlib.resources import files as package_files
from pathlib import Path

import jax

from inr.atomic import write_json, write_text
from inr.config import RunConfig, dump_yaml, merged, read_yaml, resolve
from inr.errors import InrError
from inr.fields.io import load_field, save_field
from inr.fields.model import build_field, sized_for
from inr.modalities import MODALITIES
from inr.plots import curve_png, drawn
from inr.rundir import building, check_output
from inr.schema import from_dict
from inr.train.fit import fit, restore, seconds_per_step, start_state
from inr.train.optim import make_optimizer
from inr.train.samplers import make_sampling

CONFIG = "config.yaml"
CHECKPOINT = "checkpoint.safetensors"


def data_config_for(modality: str):
    return MODALITIES.get(modality).data_config


def default_file(modality: str, kind: str) -> Path:
    """The built-in config a modality declares for ``kind`` (fit | collection)."""
    return Path(str(package_files("inr.modalities") / "defaults" / MODALITIES.get(modality).defaults[kind]))


def run_config(files, sets, overrides: dict, cls=RunConfig, modality: str = "image"):
    """The one way a run's config is made, for every verb: ``files``, ``sets``
    and ``overrides`` (their sections for ``cls.kind``) over the defaults. For a
    signal's run (``cls`` a RunConfig) the defaults are the modality's built-in
    config for ``cls.defaults``, the modality the one they name, else
    ``modality``; for weight-space and diffusion runs, ``cls``'s own."""
    if not issubclass(cls, RunConfig):
        return from_dict(cls, merged(files, sets, overrides, kind=cls.kind))
    name = merged(files, sets, overrides, kind=cls.kind).get("modality") or modality
    base = read_yaml(default_file(name, cls.defaults))
    return resolve(merged(files, sets, {**overrides, "modality": name}, base, cls.kind), data_config_for, cls)


def saved_config(run_dir) -> RunConfig:
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise InrError(f"{path}: not found; is {run_dir} a run directory?")
    return resolve(read_yaml(path), data_config_for)


def check_encoding(field, modality, cfg) -> None:
    """Progressive encodings (SAPE) need per-sample (coords, targets) errors, which not every modality has."""
    if field.encoding.update is not None and not modality.progressive_encodings:
        raise InrError(f"the {cfg.model.encoding.name} encoding grows from per-sample errors against targets, "
                       f"which {cfg.modality} training does not have; choose another encoding")


def field_for(cfg, modality, signal):
    """``(cfg, field)``: the run's field for signals like ``signal``, its hash
    tables sized to the signal where the config asks (the returned ``cfg``
    records the size chosen), its encoding checked against the modality."""
    cfg = replace(cfg, model=sized_for(cfg.model, modality.in_dim, modality.out_dim(signal),
                                       modality.sample_count(signal)))
    field = build_field(cfg.model, modality.in_dim, modality.out_dim(signal))
    check_encoding(field, modality, cfg)
    return cfg, field


def sampling_for(modality, field, cfg, signal, data: dict):
    """``cfg.train.sampler`` made concrete for ``signal`` and its training
    ``data`` (None for uniform); the signals of one collection share it."""
    return make_sampling(cfg.train.sampler, cfg.train.steps, modality.sample_errors(field.apply, cfg.data, signal),
                         data, cfg.modality, cfg.train.batch_size)


def fit_keys(seed: int):
    """``(init_key, train_key)`` of a fit with ``seed``: its initial weights are ``field.init(init_key)``."""
    return jax.random.split(jax.random.PRNGKey(seed))


def size_metrics(param_count: int, samples: int) -> dict:
    """A field's size beside its signal's: parameters, and parameters and bits (float32) per sample."""
    return {"param_count": param_count, "params_per_sample": param_count / samples,
            "bits_per_sample": 32 * param_count / samples}


def fit_run(cfg: RunConfig, run_dir, *, resume: bool = False, overwrite: bool = False, quiet: bool = False) -> dict:
    """Fit ``cfg.input`` into ``run_dir``; return the final metrics. Everything
    about the input is checked before the directory is made."""
    run_dir = Path(run_dir)
    check_output(run_dir, overwrite=overwrite, resume=resume, marker=CHECKPOINT)
    modality = MODALITIES.get(cfg.modality)
    signal = modality.load(cfg.input, cfg.data)
    cfg, field = field_for(cfg, modality, signal)
    optimizer = make_optimizer(cfg.train)
    loss = modality.loss(field.apply, cfg.data, cfg.train)
    data = modality.training_data(signal, cfg.data)
    sampling = sampling_for(modality, field, cfg, signal, data)
    score = jax.jit(modality.score(field.apply, cfg.data))
    init_key, train_key = fit_keys(cfg.seed)
    state = start_state(field.init(init_key), optimizer, cfg.train, sampling=sampling)

    with building(run_dir, overwrite=overwrite, resume=resume, marker=CHECKPOINT) as work:
        if resume:
            state = restore(work / CHECKPOINT, state)
        else:
            write_text(work / CONFIG, dump_yaml(cfg))
        state = fit(
            loss,
            state,
            data,
            cfg.train,
            optimizer,
            key=train_key,
            evaluate=lambda params: {k: float(v) for k, v in score(params, data).items()},
            checkpoint=work / CHECKPOINT,
            quiet=quiet,
            desc=f"fit {Path(cfg.input).name}",
            hooks=field.training_hooks(cfg.train.steps),
            sampling=sampling,
        )
        # weights, outputs and metrics first; the pictures last, and a picture that fails costs only itself
        save_field(work, field, state.params, modality.metadata(signal, cfg.data))
        metrics = modality.finish(work, field.apply, state.params, signal, cfg.data)
        metrics.update({
            "steps": state.step,
            "wall_seconds": state.seconds,
            "seconds_per_step": seconds_per_step(state.history),
            **size_metrics(field.param_count(), modality.sample_count(signal)),
        })
        write_json(work / "metrics.json", metrics)
        write_json(work / "history.json", state.history)
        for name, draw in modality.figures(work, field.apply, state.params, signal, cfg.data):
            drawn(work / name, draw)
        drawn(work / "curve.png", lambda: curve_png(state.history, work / "curve.png", *modality.metric))
    return metrics


def render_run(run_dir, out, **options) -> None:
    """Render a fitted run to ``out``; ``options`` left None are not given,
    and a given one the run's modality does not take is an error (``kind``,
    an SDF's output kind, is named by its own flag: --mesh, --image, ...)."""
    field, params, meta = load_field(run_dir)
    modality = MODALITIES.get(meta.get("modality", ""))
    given = {k: v for k, v in options.items() if v is not None}
    for name in given:
        if name not in modality.render_options:
            flag = "--" + (given[name] if name == "kind" else name).replace("_", "-")
            raise InrError(f"{flag} does not apply to {modality.name} runs (they take: "
                           f"{', '.join('--' + o.replace('_', '-') for o in modality.render_options) or 'no options'})")
    modality.render(field.apply, params, meta, out, **given)


def describe_run(run_dir) -> dict:
    """Spec, parameter count and metrics of a finished run."""
    field, params, meta = load_field(run_dir)
    out = {
        "run": str(run_dir),
        "modality": meta.get("modality"),
        "model": meta["model"],
        "in_dim": field.in_dim,
        "out_dim": field.out_dim,
        "param_count": field.param_count(),
        "signal": meta.get("signal"),
        "normalization": meta.get("normalization", meta.get("normalisation")),
    }
    metrics_path = Path(run_dir) / "metrics.json"
    if metrics_path.is_file():
        try:
            out["metrics"] = json.loads(metrics_path.read_text())
        except json.JSONDecodeError:
            raise InrError(f"{metrics_path}: corrupt (not valid JSON)") from None
    return out
