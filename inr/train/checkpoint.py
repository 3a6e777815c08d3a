"""Training checkpoints as one safetensors file (no pickle).

Arrays: the params under their canonical names (``params.mlp.0.W``), the
optimizer state's leaves by index (``opt.0``, ...) and the loop's named extras
(``extra.ema.mlp.0.W``, ``extra.best_score``); the step counter and history
ride in the file's metadata, so one atomic rename moves the whole checkpoint
into place. Version 1 files (no extras, no format entry) load unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jax

from inr.errors import InrError
from inr.io import open_tree, save_tree

FORMAT = "inr.checkpoint"
FORMAT_VERSION = 2


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
    save_tree(path, {
        "params": state.params,
        # by index: optax state names differ between versions, the leaf order of one optimizer does not
        "opt": jax.tree_util.tree_leaves(state.opt_state),
        "extra": state.extra,
    }, {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "step": state.step,
        "seconds": state.seconds,
        "history": state.history,
    })


def load_checkpoint(path, params_template, opt_template, extra_template: dict | None = None) -> FitState:
    """Read a checkpoint into the structures of the given templates
    (``extra_template``: the extras to expect, like :attr:`FitState.extra`)."""
    path = Path(path)
    if not path.exists():
        raise InrError(f"{path}: no checkpoint to resume from")
    with open_tree(path, "checkpoint") as f:
        meta = f.metadata()
        if meta.get("format_version", 1) > FORMAT_VERSION:
            raise InrError(f"{path}: checkpoint format version {meta['format_version']} is newer than this inr reads")
        opt_leaves, opt_def = jax.tree_util.tree_flatten(opt_template)
        try:
            step, seconds, history = int(meta["step"]), float(meta["seconds"]), list(meta["history"])
        except (KeyError, TypeError, ValueError) as err:
            raise InrError(f"{path}: corrupt checkpoint (metadata {err})") from None
        return FitState(
            params=f.tree("params", params_template),
            opt_state=jax.tree_util.tree_unflatten(opt_def, f.tree("opt", opt_leaves)),
            step=step,
            seconds=seconds,
            history=history,
            extra=f.tree("extra", dict(extra_template or {})),
        )
