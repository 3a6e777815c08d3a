"""Weight-space run directories: train a model on a collection (to classify
or to edit its fields), save it safely (safetensors + JSON), and evaluate it
on any collection of the same architecture."""
from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp

from inr.atomic import write_json, write_text
from inr.collections.format import load_collection, signal_meta, write_collection
from inr.errors import InrError
from inr.fields.io import params_template
from inr.io import open_tree, read_format_json, save_tree
from inr.learned import read_params
from inr.plots import curve_png, drawn
from inr.config import read_yaml
from inr.rundir import building, check_output, resume_dir
from inr.runs import CHECKPOINT
from inr.schema import from_dict, to_dict
from inr.weightspace.data import batched, from_collection, standardize, unstandardize
from inr.weightspace.probes import make_probe
from inr.weightspace.space import WeightSpace
from inr.weightspace.tasks import TASKS
from inr.weightspace.train import (WeightTrainConfig, build_model, check_config, predictor, train_model,
                                  upgrade_config)

FORMAT = "inr.weightmodel"
FORMAT_VERSION = 2  # 2: flax.nnx modules (kernel / bias / scale); 1: hand-written layers (W / b / g)
CONFIG = "config.yaml"


def saved_config(run_dir) -> tuple[WeightTrainConfig, str]:
    """The config and collection an interrupted run was started with (for --resume)."""
    path = Path(run_dir) / CONFIG
    raw = read_yaml(path)
    collection = raw.pop("collection", "")
    return from_dict(WeightTrainConfig, raw, str(path)), collection


def train_run(cfg: WeightTrainConfig, collection, out, *, overwrite: bool = False, resume: bool = False,
              quiet: bool = False) -> dict:
    """Train into ``out``; with ``resume``, continue its checkpoint with its saved config."""
    import yaml

    out = Path(out)
    check_output(out, overwrite=overwrite, resume=resume, marker=CHECKPOINT)
    if resume:
        cfg, saved_collection = saved_config(resume_dir(out, CHECKPOINT))
        if Path(saved_collection).resolve() != Path(collection).resolve():
            raise InrError(f"{out}: was trained on {saved_collection}, not {collection}")
    check_config(cfg)
    data = from_collection(load_collection(collection), collection)
    with building(out, overwrite=overwrite, resume=resume, marker=CHECKPOINT) as work:
        if not resume:
            write_text(work / CONFIG, yaml.safe_dump({"collection": str(collection), **to_dict(cfg)},
                                                     sort_keys=False))
        r = train_model(cfg, data, quiet=quiet, checkpoint=work / CHECKPOINT, resume=resume)
        save_tree(work / "model.safetensors", {"": r["params"]})  # unprefixed names
        write_json(work / "model.json", {
            "format": FORMAT, "format_version": FORMAT_VERSION, "collection": str(collection),
            "widths": list(data.space.widths), "n_classes": r["n_out"], "config": to_dict(cfg),
            "standardization": r["stats"], "split": {k: v.tolist() for k, v in r["splits"].items()},
        })
        metrics = dict(r["metrics"])
        part = "test" if "test" in r["predictions"] else "val"
        r["task"].report(work, cfg.model.name, part, r["splits"][part], r["predictions"][part], metrics)
        write_json(work / "metrics.json", metrics)
        write_json(work / "history.json", r["history"])
        metric = f"val_{r['task'].metric}"
        drawn(work / "curve.png", lambda: curve_png(r["history"], work / "curve.png", metric=metric,
                                                    label=metric.replace("_", " ")))
    return metrics


def load_weight_model(run_dir, field=None):
    """``(model, params, meta, config)`` from a weight-space run directory (no code
    executed); ``field``, the model of the fields it will read, is needed by
    models with probe features."""
    run_dir = Path(run_dir)
    meta = read_format_json(run_dir / "model.json", FORMAT, FORMAT_VERSION, "weight-space model",
                            f" (is {run_dir} an inr weights train run?)")
    v1 = meta.get("format_version", 1) < 2
    if v1:  # hand-written layers, one flat model section, and standardization spelled with an s
        meta["standardization"] = meta.pop("standardisation")
    cfg = from_dict(WeightTrainConfig, upgrade_config(meta["config"]) if v1 else meta["config"],
                    str(run_dir / "model.json"))
    space = WeightSpace(tuple(meta["widths"]))
    probe = None
    if field is not None:
        if list(field.widths) != meta["widths"]:
            raise InrError(f"{run_dir}: the model was trained on fields of widths {meta['widths']}, "
                           f"these have {list(field.widths)}")
        probe = make_probe(field, space, meta["standardization"])
    model = build_model(cfg, space, int(meta["n_classes"]), probe)
    with open_tree(run_dir / "model.safetensors", "weight file (for model.json)") as f:
        params = read_params(f, "", model, meta.get("format_version", 1))
    return model, jax.tree_util.tree_map(jnp.asarray, params), meta, cfg


def eval_run(run_dir, collection, predictions=None, edited=None, overwrite: bool = False) -> dict:
    """Apply the model to every field of ``collection``: the predicted classes
    (accuracy where labels exist), or for an editing model the edited fields'
    mean squared error against the dilated pictures; with ``edited``, the
    edited fields written there as a collection of their own."""
    data = from_collection(load_collection(collection), collection)
    model, params, meta, cfg = load_weight_model(run_dir, data.field)
    if edited is not None:
        if cfg.task != "edit":
            raise InrError(f"--edited: {run_dir} was trained with --task {cfg.task}, not edit")
        check_output(edited, overwrite=overwrite, resume=False, marker=None)
    stats = meta["standardization"]
    task = TASKS.get(cfg.task)(cfg, data, stats)
    xs = standardize(data.tensors, stats)
    pred = batched(predictor(model, task), params, xs)
    out = {"collection": str(collection), "count": int(len(pred))}
    if task.targets is not None:
        out[task.metric] = task.score(pred, task.targets)
    if predictions is not None:
        write_json(predictions, {"predictions": pred.tolist(), **out})
    if edited is not None:
        _write_edited(edited, model, params, data, stats, run_dir, overwrite)
        out["edited"] = str(edited)
    return out


def _write_edited(out, model, params, data, stats, run_dir, overwrite: bool) -> None:
    """The fields with the model's change added, as a collection (same field
    model, layout and records; each record names the editing run)."""
    space = data.space
    apply = jax.jit(lambda p, xs: space.to_flat(unstandardize([x + d for x, d in zip(xs, model.apply(p, xs))],
                                                              stats)))
    weights = batched(apply, params, standardize(data.tensors, stats))
    records = [{**{k: v for k, v in r.items() if k != "metrics"}, "edited_by": str(run_dir)}
               for r in data.meta["fields"]]
    with building(out, overwrite=overwrite) as work:
        write_collection(work, data.field, weights, params_template(data.field), signal_meta(data.meta), records)


def dumps(metrics: dict) -> str:
    return json.dumps({k: v for k, v in metrics.items() if k not in ("confusion_matrix", "per_class_accuracy")})
