"""Training checkpoints as one safetensors file (no pickle).

Arrays: the params under their canonical names and the optimizer state's
leaves by index; the step counter and history ride in the file's string
metadata, so one atomic rename moves the whole checkpoint into place.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jax
import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from inr.atomic import atomic_path
from inr.errors import InrError
from inr.fields.layout import param_entries


@dataclass
class FitState:
    params: dict
    opt_state: object
    step: int = 0
    seconds: float = 0.0
    history: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    """named pytrees the loop keeps beside params (e.g. ``ema``, ``best`` weights and ``best_score``);
    saved in the checkpoint like params"""


def save_checkpoint(path, state: FitState) -> None:
    arrays = {f"params.{name}": np.asarray(a) for name, a in param_entries(state.params)}
    for i, leaf in enumerate(jax.tree_util.tree_leaves(state.opt_state)):
        arrays[f"opt.{i}"] = np.asarray(leaf)
    meta = {
        "step": str(state.step),
        "seconds": repr(state.seconds),
        "history": json.dumps(state.history),
    }
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp), metadata=meta)


def load_checkpoint(path, params_template, opt_template) -> FitState:
    """Read a checkpoint into the structures of the given templates."""
    path = Path(path)
    try:
        arrays = load_file(str(path))
        with open(path, "rb") as fh:
            header_len = int.from_bytes(fh.read(8), "little")
            meta = json.loads(fh.read(header_len))["__metadata__"]
        params_flat = [arrays[f"params.{n}"] for n, _ in param_entries(params_template)]
        opt_leaves, opt_def = jax.tree_util.tree_flatten(opt_template)
        opt_flat = [arrays[f"opt.{i}"] for i in range(len(opt_leaves))]
        for got, want in zip(params_flat + opt_flat, jax.tree_util.tree_leaves(params_template) + opt_leaves):
            if tuple(got.shape) != tuple(np.shape(want)):
                raise ValueError("shape mismatch")
        params = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(params_template), params_flat)
        return FitState(
            params=params,
            opt_state=jax.tree_util.tree_unflatten(opt_def, opt_flat),
            step=int(meta["step"]),
            seconds=float(meta["seconds"]),
            history=json.loads(meta["history"]),
        )
    except FileNotFoundError:
        raise InrError(f"{path}: no checkpoint to resume from") from None
    except (SafetensorError, KeyError, ValueError, OSError) as err:
        raise InrError(f"{path}: corrupt or incompatible checkpoint ({err})") from None
