"""Diffusion run directories: train on a collection, sample new fields as a
collection, evaluate samples against the data.

A run holds ``config.yaml``, ``checkpoint.safetensors`` (resumable),
``denoiser.safetensors`` (EMA weights and the standardization) with
``diffusion.json`` (format, config, tokenizer layout, split, and the source
collection's field spec), ``history.json`` and ``curve.png``.
"""
from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import yaml

from inr.atomic import write_json, write_text
from inr.collections.format import load_collection, signal_meta, write_collection
from inr.config import read_yaml
from inr.diffusion.augment import check_augment, make_augment
from inr.diffusion.evaluate import evaluate_items, references, train_digit_classifier
from inr.diffusion.sample import sample
from inr.diffusion.schedule import x0_predictor
from inr.diffusion.tokens import Tokenizer
from inr.diffusion.standardize import Standardizer
from inr.diffusion.train import DiffusionConfig, build, check_config, init_state, schedule_of, train, upgrade_config
from inr.errors import InrError
from inr.fields.io import field_from_spec, field_spec, params_template
from inr.fields.layout import unflatten
from inr.io import open_tree, read_format_json, save_tree
from inr.learned import read_params
from inr.modalities import MODALITIES
from inr.plots import curve_png, drawn
from inr.rundir import building, check_output, resume_dir
from inr.schema import from_dict, to_dict
from inr.train.fit import restore
from inr.collections.split import split_by_signal

FORMAT = "inr.diffusion"
FORMAT_VERSION = 3  # 3: the field's spec with its version; 2: flax.nnx denoisers (kernel / bias / scale); 1: hand-written layers (W / b / g)
CONFIG = "config.yaml"
CHECKPOINT = "checkpoint.safetensors"


def _split(coll, cfg: DiffusionConfig) -> dict:
    return split_by_signal([f["source"] for f in coll.fields], cfg.split, cfg.seed)


def train_run(cfg: DiffusionConfig, collection, out, *, resume: bool = False, overwrite: bool = False,
              quiet: bool = False) -> dict:
    out = Path(out)
    if not resume:
        check_config(cfg)
    coll = load_collection(collection)
    tok = Tokenizer.from_layout(coll.meta["layout"])
    if not resume:
        check_augment(cfg.augment, coll.meta, tok, f"{collection}: augment")
    check_output(out, overwrite=overwrite, resume=resume, marker=CHECKPOINT)
    if resume:  # the interrupted run's own config (its split, seed and schedule), written before training
        saved_path = resume_dir(out, CHECKPOINT) / CONFIG
        saved = read_yaml(saved_path)
        saved.pop("collection", None)
        cfg = from_dict(DiffusionConfig, saved, where=str(saved_path))
        check_config(cfg)
    split = _split(coll, cfg)
    if len(split["train"]) == 0:
        raise InrError(f"{collection}: no training fields in split {cfg.split}")
    std = Standardizer.fit(coll.weights[split["train"]], cfg.standardize, cfg.standardize_by, tok)
    augment = make_augment(cfg.augment, coll.meta, tok, std, f"{collection}: augment")
    state = init_state(cfg, tok)
    with building(out, overwrite=overwrite, resume=resume, marker=CHECKPOINT) as work:
        if resume:
            state = restore(work / CHECKPOINT, state)
        else:
            write_text(work / CONFIG, yaml.safe_dump({"collection": str(collection), **to_dict(cfg)},
                                                     sort_keys=False))
        state = train(cfg, tok, std.forward(coll.weights[split["train"]]), state, checkpoint=work / CHECKPOINT,
                      quiet=quiet, augment=augment)
        save_tree(work / "denoiser.safetensors", {"params": state.extra["ema"], **std.arrays()})
        write_json(work / "diffusion.json", {
            "format": FORMAT, "format_version": FORMAT_VERSION, "collection": str(collection),
            "config": to_dict(cfg), "layout": coll.meta["layout"],
            "field": field_spec(coll.field),
            "header": signal_meta(coll.meta), "split": {k: v.tolist() for k, v in split.items()}, "steps": state.step,
        })
        write_json(work / "history.json", state.history)
        drawn(work / "curve.png", lambda: curve_png(state.history, work / "curve.png", "loss_mean",
                                                    f"{cfg.prediction} MSE (standardized weights)"))
    return {"steps": state.step, "seconds": state.seconds, "loss": state.history[-1]["loss_mean"] if state.history
            else None, "train_fields": int(len(split["train"]))}


def read_run(run_dir) -> dict:
    return read_format_json(Path(run_dir) / "diffusion.json", FORMAT, FORMAT_VERSION, "diffusion run",
                            f"; is {run_dir} a trained diffusion run?")


def load_denoiser(run_dir):
    """``(cfg, tokenizer, apply, params, standardizer, run_json)`` of a trained run;
    ``apply(params, x_t, t)`` returns x0 whatever the network predicts."""
    run = read_run(run_dir)
    v1 = run.get("format_version", 1) < 2
    cfg = from_dict(DiffusionConfig, upgrade_config(run["config"]) if v1 else run["config"])
    tok = Tokenizer.from_layout(run["layout"])
    net = build(cfg, tok)
    stored = "standardise" if v1 else "standardize"  # version 1 spelled it with an s
    with open_tree(Path(run_dir) / "denoiser.safetensors", "denoiser weight file") as f:
        params = read_params(f, "params", net, run.get("format_version", 1))
        parts = ["mean", "std"] + ["basis"] * (f"{stored}.basis" in f.names())
        std = Standardizer.from_arrays({f"standardize.{n}": f.array(f"{stored}.{n}") for n in parts})
    return cfg, tok, x0_predictor(net.apply, schedule_of(cfg), cfg.prediction), params, std, run


SAMPLE_FILES = 8


def sample_run(run_dir, out, n: int, *, steps: int = 0, seed: int = 0, overwrite: bool = False) -> dict:
    """Sample ``n`` fields (DDIM with ``steps`` if given, else full DDPM) into
    the collection ``out``, with a picture grid for images."""
    if n < 1:
        raise InrError(f"--n must be at least 1 (got {n})")
    cfg, tok, apply, params, std, run = load_denoiser(run_dir)
    if not 0 <= steps <= cfg.timesteps:
        raise InrError(f"--steps must be between 0 (full DDPM) and the run's {cfg.timesteps} timesteps (got {steps})")
    out = Path(out)
    check_output(out, overwrite=overwrite, resume=False, marker=None)
    method = "ddim" if steps else "ddpm"
    x = sample(apply, params, schedule_of(cfg), jax.random.PRNGKey(seed), n, tok.size, method, steps)
    weights = std.inverse(x)
    field = field_from_spec(run["field"], str(Path(run_dir) / "diffusion.json"))
    header = {**run["header"], "generated_by": {"run": str(run_dir), "method": method,
                                                "steps": steps or cfg.timesteps, "seed": seed,
                                                "collection": run["collection"], "split": run["split"]}}
    records = [{"index": i, "source": f"sample-{i}", "seed": seed} for i in range(n)]
    template = params_template(field)
    finite = bool(np.all(np.isfinite(weights)))
    modality = MODALITIES.get(run["header"].get("modality", ""))
    with building(out, overwrite=overwrite) as work:
        write_collection(work, field, weights, template, header, records)
        if finite:  # rendered from the weights in memory, as the collection holds them
            params = [unflatten(jnp.asarray(w, jnp.float32), template) for w in weights[:64]]
            drawn(work / "samples.png", lambda: modality.render_many(field.apply, params, header, work / "samples.png"))
            # the first few as files of their own: pictures, clips or meshes (128^3 marching cubes)
            options = {"resolution": 128} if "resolution" in modality.render_options else {}
            (work / "decoded").mkdir()
            for i in range(min(n, SAMPLE_FILES)):
                modality.render(field.apply, params[i], header,
                                work / "decoded" / f"sample-{i:03d}{modality.field_suffix}", **options)
    return {"samples": n, "method": method, "steps": steps or cfg.timesteps, "finite": finite}


def eval_run(samples, reference=None, out=None) -> dict:
    """Metrics of a sampled collection against its diffusion run's data (or ``reference``)."""
    samp = load_collection(samples)
    made = samp.meta.get("generated_by")
    if made is None:
        raise InrError(f"{samples}: not written by inr diffusion sample (no train/test split recorded)")
    ref = load_collection(reference or made["collection"])
    split = made["split"]
    if split is None:
        raise InrError(f"{samples}: no train/test split recorded")
    if max(max(idx, default=-1) for idx in split.values()) >= len(ref):
        raise InrError(f"{reference or made['collection']}: has {len(ref)} fields, fewer than the samples' "
                       "recorded split refers to")
    if ref.meta.get("layout") != samp.meta.get("layout"):
        raise InrError(f"{reference or made['collection']}: its fields' layout differs from the samples'")
    modality = MODALITIES.get(ref.meta.get("modality", ""))
    items = {name: modality.comparable(ref.field, ref.weights[np.asarray(split[name], np.int64)], ref.meta)
             for name in ("train", "test")}
    classifier = None
    if ref.labels is not None and modality.classifiable:
        classifier = train_digit_classifier(items["train"], ref.labels[np.asarray(split["train"], np.int64)])
    metrics = evaluate_items(modality, modality.comparable(samp.field, samp.weights, samp.meta),
                             references(modality, items["train"], items["test"]), classifier)
    if out:
        write_json(out, metrics)
    return metrics
