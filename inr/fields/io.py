"""Field files: ``field.safetensors`` (arrays) + ``field.json`` (spec and metadata).

Loading executes no code: the JSON rebuilds the model through the registries
and the arrays are matched to it by name and shape.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import jax
import numpy as np

from inr.atomic import write_json
from inr.errors import InrError
from inr.fields.layout import layout
from inr.fields.model import Field, build_field
from inr.fields.spec import ModelConfig, upgrade_model
from inr.io import open_tree, read_format_json, save_tree, tree_entries
from inr.nn import draws
from inr.schema import from_dict, to_dict

FORMAT = "inr.field"
FORMAT_VERSION = 3  # 3: typed activation section; 2: typed encoding section, normalization
COORDINATES = {
    "range": [-1.0, 1.0],
    "convention": "sample centres: (2 i + 1) / n - 1 along each axis; coordinate k indexes array axis k",
}


def field_spec(field: Field) -> dict:
    """What rebuilds ``field``; its ``format_version`` says how to read ``model``
    (a field description, a collection manifest and a diffusion run share it)."""
    return {"format_version": FORMAT_VERSION, "model": to_dict(field.model), "in_dim": field.in_dim,
            "out_dim": field.out_dim}


def field_from_spec(spec: dict, where: str = "spec") -> Field:
    try:
        # a spec without a version is a diffusion run's before format 3, holding its collection's model
        model_dict = upgrade_model(spec["model"], spec.get("format_version", 1))
        model = from_dict(ModelConfig, model_dict, f"{where}.model")
        return build_field(model, int(spec["in_dim"]), int(spec["out_dim"]))
    except (KeyError, TypeError, ValueError) as err:
        raise InrError(f"{where}: incomplete field spec ({err})") from None


@functools.lru_cache(maxsize=64)
def _template(spec_json: str) -> dict:
    field = field_from_spec(json.loads(spec_json))
    shapes = jax.eval_shape(field.init, jax.random.PRNGKey(0))
    return jax.tree_util.tree_map(lambda s: draws.zeros(s.shape, s.dtype), shapes)


def params_template(field: Field) -> dict:
    """Zeros in the structure, shapes and dtypes of ``field``'s params, built
    once per field spec: the structure files are read into and flat vectors
    unravelled by (zeros, not shapes, so ``ravel_pytree`` takes it)."""
    return _template(json.dumps(field_spec(field), sort_keys=True))


def save_field(run_dir, field: Field, params, meta: dict) -> None:
    """Write the field's arrays and JSON description into ``run_dir``."""
    run_dir = Path(run_dir)
    save_tree(run_dir / "field.safetensors", {"params": params, "buffers.encoding": dict(field.encoding.buffers)})
    write_json(run_dir / "field.json", {
        "format": FORMAT,
        **field_spec(field),
        "coordinates": COORDINATES,
        "param_count": int(sum(np.size(a) for _, a in tree_entries(params))),
        "layout": layout(params),
        **meta,
    })


def read_field_json(run_dir) -> dict:
    return read_format_json(Path(run_dir) / "field.json", FORMAT, FORMAT_VERSION, "field description",
                            f" (is {run_dir} a finished run directory?)")


def load_field(run_dir) -> tuple[Field, dict, dict]:
    """``(field, params, meta)`` from a run directory, without executing code."""
    meta = read_field_json(run_dir)
    field = field_from_spec(meta, str(Path(run_dir) / "field.json"))
    path = Path(run_dir) / "field.safetensors"
    with open_tree(path, "field weights file") as f:
        params = f.tree("params", params_template(field))
        buffers = f.tree("buffers.encoding", {k: np.asarray(v) for k, v in field.encoding.buffers.items()})
    # The saved buffers are the truth, whatever this jax's PRNG would draw.
    field = dataclasses.replace(field, encoding=dataclasses.replace(field.encoding, buffers=buffers))
    return field, params, meta
