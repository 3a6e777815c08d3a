"""Field files: ``field.safetensors`` (arrays) + ``field.json`` (spec and metadata).

Loading executes no code: the JSON rebuilds the model through the registries
and the arrays are matched to it by name and shape.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from inr.atomic import atomic_path, write_json
from inr.errors import InrError
from inr.fields.layout import layout, param_entries
from inr.fields.model import Field, build_field
from inr.fields.spec import ModelConfig
from inr.schema import from_dict, to_dict

FORMAT = "inr.field"
FORMAT_VERSION = 1
COORDINATES = {
    "range": [-1.0, 1.0],
    "convention": "sample centres: (2 i + 1) / n - 1 along each axis; coordinate k indexes array axis k",
}


def field_spec(field: Field) -> dict:
    return {"model": to_dict(field.model), "in_dim": field.in_dim, "out_dim": field.out_dim}


def field_from_spec(spec: dict, where: str = "spec") -> Field:
    try:
        model = from_dict(ModelConfig, spec["model"], f"{where}.model")
        return build_field(model, int(spec["in_dim"]), int(spec["out_dim"]))
    except (KeyError, TypeError, ValueError) as err:
        raise InrError(f"{where}: incomplete field spec ({err})") from None


def save_field(run_dir, field: Field, params, meta: dict) -> None:
    """Write the field's arrays and JSON description into ``run_dir``."""
    run_dir = Path(run_dir)
    arrays = {f"params.{n}": np.asarray(a) for n, a in param_entries(params)}
    arrays.update({f"buffers.encoding.{k}": np.asarray(v) for k, v in field.encoding.buffers.items()})
    with atomic_path(run_dir / "field.safetensors") as tmp:
        save_file(arrays, str(tmp))
    write_json(run_dir / "field.json", {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **field_spec(field),
        "coordinates": COORDINATES,
        "param_count": int(sum(np.size(a) for _, a in param_entries(params))),
        "layout": layout(params),
        **meta,
    })


def read_format_json(path: Path, fmt: str, version: int, what: str, missing: str) -> dict:
    """A JSON description of format ``fmt`` no newer than ``version``, or a
    one-line :class:`InrError` (``missing`` says what to do when it is absent)."""
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise InrError(f"{path}: not found{missing}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InrError(f"{path}: corrupt {what} (not valid JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise InrError(f"{path}: not an inr {what}")
    if meta.get("format_version", 0) > version:
        raise InrError(f"{path}: format version {meta['format_version']} is newer than this inr reads")
    return meta


def read_field_json(run_dir) -> dict:
    return read_format_json(Path(run_dir) / "field.json", FORMAT, FORMAT_VERSION, "field description",
                            f" (is {run_dir} a finished run directory?)")


def load_field(run_dir) -> tuple[Field, dict, dict]:
    """``(field, params, meta)`` from a run directory, without executing code."""
    meta = read_field_json(run_dir)
    field = field_from_spec(meta, str(Path(run_dir) / "field.json"))
    path = Path(run_dir) / "field.safetensors"
    template = jax.eval_shape(field.init, jax.random.PRNGKey(0))
    try:
        arrays = load_file(str(path))
        leaves = []
        for name, want in param_entries(template):
            got = arrays[f"params.{name}"]
            if got.shape != want.shape:
                raise ValueError(f"{name} has shape {got.shape}, expected {want.shape}")
            leaves.append(got)
        buffers = {}
        for k, v in field.encoding.buffers.items():
            buffers[k] = arrays[f"buffers.encoding.{k}"]
            if buffers[k].shape != np.shape(v):
                raise ValueError(f"encoding buffer {k} has shape {buffers[k].shape}, expected {np.shape(v)}")
    except FileNotFoundError:
        raise InrError(f"{path}: not found") from None
    except (SafetensorError, OSError) as err:
        raise InrError(f"{path}: corrupt weight file ({err})") from None
    except (KeyError, ValueError) as err:
        raise InrError(f"{path}: weights do not match field.json ({err})") from None
    params = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(template), leaves)
    # The saved buffers are the truth, whatever this jax's PRNG would draw.
    field = dataclasses.replace(field, encoding=dataclasses.replace(field.encoding, buffers=buffers))
    return field, params, meta
