"""Weight-space run directories: train a classifier on a collection, save it
safely (safetensors + JSON), and evaluate it on any collection of the same
architecture."""
from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from inr.atomic import write_json, write_text
from inr.collections.format import load_collection
from inr.errors import InrError
from inr.io import open_tree, read_format_json, save_tree
from inr.learned import read_params
from inr.plots import confusion_png, curve_png, drawn
from inr.config import read_yaml
from inr.rundir import building, check_output, resume_dir
from inr.runs import CHECKPOINT
from inr.schema import from_dict, to_dict
from inr.weightspace.data import from_collection, standardize
from inr.weightspace.models import WEIGHT_MODELS
from inr.weightspace.probes import make_probe
from inr.weightspace.space import WeightSpace
from inr.weightspace.train import WeightTrainConfig, check_config, predict, train_classifier, upgrade_config

FORMAT = "inr.weightmodel"
FORMAT_VERSION = 2  # 2: flax.nnx modules (kernel / bias / scale); 1: hand-written layers (W / b / g)
CONFIG = "config.yaml"


def _confusion(true, pred, n: int) -> list[list[int]]:
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (true, pred), 1)
    return m.tolist()


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
    data = from_collection(load_collection(collection))
    with building(out, overwrite=overwrite, resume=resume, marker=CHECKPOINT) as work:
        if not resume:
            write_text(work / CONFIG, yaml.safe_dump({"collection": str(collection), **to_dict(cfg)},
                                                     sort_keys=False))
        r = train_classifier(cfg, data, quiet=quiet, checkpoint=work / CHECKPOINT, resume=resume)
        save_tree(work / "model.safetensors", {"": r["params"]})  # unprefixed names
        write_json(work / "model.json", {
            "format": FORMAT, "format_version": FORMAT_VERSION, "collection": str(collection),
            "widths": list(data.space.widths), "n_classes": r["n_classes"], "config": to_dict(cfg),
            "standardization": r["stats"], "split": {k: v.tolist() for k, v in r["splits"].items()},
        })
        metrics = dict(r["metrics"])
        part = "test" if "test" in r["predictions"] else "val"
        conf = _confusion(np.asarray(data.labels)[r["splits"][part]], r["predictions"][part], r["n_classes"])
        metrics["per_class_accuracy"] = [row[i] / max(sum(row), 1) for i, row in enumerate(conf)]
        metrics["confusion_matrix"] = conf
        write_json(work / "metrics.json", metrics)
        write_json(work / "history.json", r["history"])
        drawn(work / "curve.png", lambda: curve_png(r["history"], work / "curve.png", metric="val_accuracy",
                                                    label="validation accuracy"))
        title = f"{cfg.model.name}: test accuracy {metrics.get('test_accuracy', 0):.3f}"
        drawn(work / "confusion.png", lambda: confusion_png(conf, work / "confusion.png", title))
    return metrics


def load_weight_model(run_dir, field=None):
    """``(model, params, meta)`` from a weight-space run directory (no code
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
    model = WEIGHT_MODELS.get(cfg.model.name)(cfg.model, space, int(meta["n_classes"]), probe)
    with open_tree(run_dir / "model.safetensors", "weight file (for model.json)") as f:
        params = read_params(f, "", model, meta.get("format_version", 1))
    return model, jax.tree_util.tree_map(jnp.asarray, params), meta


def eval_run(run_dir, collection, predictions=None) -> dict:
    """Predict every field of ``collection``; accuracy where labels exist."""
    data = from_collection(load_collection(collection))
    model, params, meta = load_weight_model(run_dir, data.field)
    xs = standardize(data.tensors, meta["standardization"])
    n = xs[0].shape[0]
    pred = predict(jax.jit(model.apply), params, xs)
    out = {"collection": str(collection), "count": int(n)}
    if data.labels is not None:
        out["accuracy"] = float(np.mean(pred == data.labels))
    if predictions is not None:
        write_json(predictions, {"predictions": pred.tolist(), **out})
    return out


def dumps(metrics: dict) -> str:
    return json.dumps({k: v for k, v in metrics.items() if k not in ("confusion_matrix", "per_class_accuracy")})
