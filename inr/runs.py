"""Fitting one signal into a run directory, and reading runs back.

A run directory holds ``config.yaml`` (resolved), ``checkpoint.safetensors``
(resumable state), ``field.safetensors`` + ``field.json``, the modality's
outputs, ``metrics.json``, ``history.json`` and ``curve.png``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import jax

from inr.atomic import write_json, write_text
from inr.config import RunConfig, dump_yaml, read_yaml, resolve
from inr.errors import InrError
from inr.fields.io import load_field, save_field
from inr.fields.model import build_field
from inr.modalities import MODALITIES
from inr.plots import curve_png
from inr.train.checkpoint import FitState, load_checkpoint
from inr.train.fit import fit, seconds_per_step
from inr.train.optim import make_optimizer

CONFIG = "config.yaml"
CHECKPOINT = "checkpoint.safetensors"


def data_config_for(modality: str):
    return MODALITIES.get(modality).data_config


def saved_config(run_dir) -> RunConfig:
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        raise InrError(f"{path}: not found; is {run_dir} a run directory?")
    return resolve(read_yaml(path), data_config_for)


def prepare_run_dir(run_dir: Path, *, overwrite: bool, resume: bool, marker: str = CHECKPOINT) -> None:
    """Make an empty output directory, refusing to clobber one unless told;
    with ``resume`` only check that ``marker`` (the file resuming needs) is there."""
    if resume:
        if not (run_dir / marker).is_file():
            raise InrError(f"{run_dir}: nothing to resume (no {marker})")
        return
    if run_dir.exists() and not run_dir.is_dir():
        raise InrError(f"{run_dir}: exists and is not a directory")
    if run_dir.exists() and any(run_dir.iterdir()):
        if not overwrite:
            raise InrError(f"{run_dir}: already exists; pass --overwrite to replace it or --resume to continue it")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)


def check_encoding(field, modality, cfg) -> None:
    """Progressive encodings (SAPE) need per-sample (coords, targets) errors, which not every modality has."""
    if field.encoding.update is not None and not modality.progressive_encodings:
        raise InrError(f"the {cfg.model.encoding.name} encoding grows from per-sample errors against targets, "
                       f"which {cfg.modality} training does not have; choose another encoding")


def fit_run(cfg: RunConfig, run_dir, *, resume: bool = False, overwrite: bool = False, quiet: bool = False) -> dict:
    """Fit ``cfg.input`` into ``run_dir``; return the final metrics."""
    run_dir = Path(run_dir)
    modality = MODALITIES.get(cfg.modality)
    signal = modality.load(cfg.input, cfg.data)
    field = build_field(cfg.model, modality.in_dim, modality.out_dim(signal))
    check_encoding(field, modality, cfg)
    optimizer = make_optimizer(cfg.train)
    prepare_run_dir(run_dir, overwrite=overwrite, resume=resume)
    if not resume:
        write_text(run_dir / CONFIG, dump_yaml(cfg))

    init_key, train_key = jax.random.split(jax.random.PRNGKey(cfg.seed))
    params = field.init(init_key)
    state = FitState(params, optimizer.init(params))
    if resume:
        state = load_checkpoint(run_dir / CHECKPOINT, state.params, state.opt_state)

    data = modality.training_data(signal, cfg.data)
    score = jax.jit(modality.score(field.apply, cfg.data))
    state = fit(
        modality.loss(field.apply, cfg.data, cfg.train),
        state,
        data,
        cfg.train,
        optimizer,
        key=train_key,
        evaluate=lambda params: {k: float(v) for k, v in score(params, data).items()},
        checkpoint=run_dir / CHECKPOINT,
        quiet=quiet,
        desc=f"fit {Path(cfg.input).name}",
        hooks=field.training_hooks(cfg.train.steps),
    )

    save_field(run_dir, field, state.params, modality.metadata(signal, cfg.data))
    metrics = modality.finish(run_dir, field.apply, state.params, signal, cfg.data)
    metrics.update({
        "steps": state.step,
        "wall_seconds": state.seconds,
        "seconds_per_step": seconds_per_step(state.history),
        "param_count": field.param_count(),
    })
    write_json(run_dir / "metrics.json", metrics)
    write_json(run_dir / "history.json", state.history)
    curve_png(state.history, run_dir / "curve.png", *modality.metric)
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
