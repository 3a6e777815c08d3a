"""Weight-space augmentation for diffusion training: every training batch
moved by a random rotation, zoom and shift of its fields' coordinates.

A field whose first layer sees the 2-D coordinates themselves (identity
encoding) is moved exactly by changing that layer alone
(:func:`inr.weightspace.data.transform_inputs`, the DWSNets classifier's input
augmentation), so each moved field is a valid field of the moved picture with
no refitting. Its hidden layers are the source field's, though, so a denoiser
can still tell which training field it came from.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp

from inr.diffusion.standardize import Standardizer
from inr.diffusion.tokens import Tokenizer
from inr.errors import InrError
from inr.weightspace.data import augment_inputs
from inr.weightspace.space import WeightSpace


@dataclass
class AugmentConfig:
    rotate: float = 0.0
    """largest rotation in degrees, uniform in [-rotate, rotate]; 0: none"""
    scale: float = 0.0
    """zoom by a factor uniform in [1 - scale, 1 + scale]; 0: none"""
    shift: float = 0.0
    """shift by up to this much along each axis (the coordinate range is [-1, 1]); 0: none"""

    @property
    def enabled(self) -> bool:
        return self.rotate > 0 or self.scale > 0 or self.shift > 0


def check_augment(cfg: AugmentConfig, field_meta: dict, tok: Tokenizer, where: str = "augment") -> None:
    """One-line errors for settings out of range and for fields it cannot move."""
    if not cfg.enabled:
        return
    if not (cfg.rotate >= 0 and 0 <= cfg.scale < 1 and cfg.shift >= 0):
        raise InrError(f"{where}: need rotate >= 0, 0 <= scale < 1 and shift >= 0 "
                       f"(got {cfg.rotate}, {cfg.scale}, {cfg.shift})")
    encoding, dim = field_meta["model"]["encoding"]["name"], int(field_meta["in_dim"])
    if encoding != "identity" or dim != 2:
        raise InrError(f"{where}: needs fields of 2-D coordinates whose first layer sees them (identity "
                       f"encoding); these have {dim}-D coordinates and the {encoding!r} encoding")
    WeightSpace.of_layout(tok.layout, where)  # raises for fields that are not plain MLPs


def make_augment(cfg: AugmentConfig, field_meta: dict, tok: Tokenizer, std: Standardizer,
                 where: str = "augment") -> Callable | None:
    """``augment(key, x) -> x`` on a batch of standardized flat weights, or
    None when the config asks for nothing."""
    check_augment(cfg, field_meta, tok, where)
    if not cfg.enabled:
        return None
    space = WeightSpace.of_layout(tok.layout, where)

    def augment(key, x):
        xs = space.from_flat(std.inverse(jnp.asarray(x)))
        xs = augment_inputs(space, key, xs, cfg.rotate, cfg.shift, cfg.scale, dropout=0.0)
        return std.forward(space.to_flat(xs))

    return augment
