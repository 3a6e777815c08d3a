"""The ``collection`` config section: how the fields of a collection start and are batched."""
from __future__ import annotations

from dataclasses import dataclass, field

from inr.config import RunConfig


@dataclass
class CollectionConfig:
    init: str = "shared"
    """random (one random init per field) | shared (one random init for all signals, fit-a-nef's
    default) | field (start every field from init_field, HyperDiffusion's "first weights")"""
    init_field: str = ""
    """run directory of a fitted field, for init: field"""
    fits_per_signal: int = 1
    """K fits of every signal, each from its own seed (NFN's augmentation)"""
    limit: int = 0
    """fit only the first N signals of the source (0: all)"""
    chunk_size: int = 256
    """fields fitted together in one jitted step (rounded up to a multiple of the device count)"""


@dataclass
class CollectionRunConfig(RunConfig):
    collection: CollectionConfig = field(default_factory=CollectionConfig)
