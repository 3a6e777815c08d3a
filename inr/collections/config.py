"""The ``collection`` config section: how the fields of a collection start and are batched."""
from __future__ import annotations

from dataclasses import dataclass, field

from inr.config import RunConfig
from inr.train.config import TrainConfig


@dataclass
class MetaConfig:
    """Learning a shared init by MAML: the outer loop (``meta.train``, Adam by
    default) over the init; the inner loop is the collection's own fit (its
    top-level ``train`` section)."""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        steps=2500, optimizer="adam", lr=1e-3, schedule="constant", steps_per_call=50, checkpoint_every=500))
    """the outer loop (train.batch_size is ignored here: meta.batch_size signals per outer step)"""
    batch_size: int = 32
    """signals per outer step"""
    learn_lr: bool = True
    """learn train.lr beside the init (written into the collection.yaml it makes)"""


META_RENAMED = {k: f"collection.meta.train.{k}" for k in ("steps", "lr", "steps_per_call", "checkpoint_every")}
"""collection.meta keys of earlier configs and where they live now"""


@dataclass
class CollectionConfig:
    init: str = "shared"
    """random (one random init per field) | shared (one random init for all signals, fit-a-nef's
    default) | field (start every field from init_field: HyperDiffusion's "first weights", or an
    init learned by `inr meta-init`)"""
    init_field: str = ""
    """run directory of a fitted field or of `inr meta-init`, for init: field"""
    fits_per_signal: int = 1
    """K fits of every signal, each from its own seed (NFN's augmentation)"""
    limit: int = 0
    """fit only the first N signals of the source (0: all)"""
    chunk_size: int = 256
    """fields fitted together in one jitted step (rounded up to a multiple of the device count)"""
    meta: MetaConfig = field(default_factory=MetaConfig)
    """`inr meta-init` only: how the shared init is learned"""


@dataclass
class CollectionRunConfig(RunConfig):
    collection: CollectionConfig = field(default_factory=CollectionConfig)

    defaults = "collection"
    kind = "fit-many"
