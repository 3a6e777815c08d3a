"""What a collection is fitted from: a folder of signal files, or an IDX file
of images (with its labels). Each item loads its signal on demand."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from inr.collections.idx import is_idx, labels_path_for, read_idx
from inr.errors import InrError


@dataclass(frozen=True)
class Item:
    index: int
    source: str
    label: Optional[int]
    load: Callable[[], object]  # () -> the modality's signal


def _idx_items(path: Path, modality, cfg) -> list[Item]:
    images = read_idx(path)
    if images.ndim not in (3, 4) or images.dtype != np.uint8:
        raise InrError(f"{path}: expected an IDX array of uint8 images (N, H, W[, C]), got {images.shape}")
    if len(images):
        modality.from_array(images[0], str(path), cfg)  # a modality that reads no arrays says so now
    labels_file = labels_path_for(path)
    labels = read_idx(labels_file) if labels_file else None
    if labels is not None and labels.shape != (len(images),):
        raise InrError(f"{labels_file}: {labels.shape[0]} labels for {len(images)} images")

    def item(i):
        label = int(labels[i]) if labels is not None else None
        return Item(i, f"{path.name}#{i}", label, lambda: modality.from_array(images[i], f"{path}#{i}", cfg))

    return [item(i) for i in range(len(images))]


def _folder_items(path: Path, modality, cfg) -> list[Item]:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in modality.extensions)
    return [Item(i, str(p), None, (lambda p=p: modality.load(p, cfg))) for i, p in enumerate(files)]


def source_modality(source, modalities) -> str:
    """The modality a collection source holds when no config names one: an
    IDX file holds images; a folder, the modality most of its files are in."""
    path = Path(source)
    if not path.is_dir():
        return "image"
    suffixes = [p.suffix.lower() for p in path.iterdir() if p.is_file()]
    counts = {m.name: sum(s in m.extensions for s in suffixes) for m in modalities}
    best = max(counts, key=counts.get)
    return best if counts[best] else "image"


def list_items(source, modality, cfg, limit: int = 0) -> list[Item]:
    """The collection's items in order (the first ``limit`` when > 0)."""
    path = Path(source)
    if path.is_dir():
        items = _folder_items(path, modality, cfg)
    elif is_idx(path):
        items = _idx_items(path, modality, cfg)
    elif path.exists():
        raise InrError(f"{path}: a collection source is a folder of {modality.name} files or an IDX image file")
    else:
        raise InrError(f"{path}: not found")
    if not items:
        exts = " ".join(sorted(modality.extensions))
        raise InrError(f"{path}: no {modality.name} files in it (looked for {exts})")
    items = items[:limit] if limit > 0 else items
    if path.is_dir():
        check_items(items, modality)
    return items


def check_items(items: list[Item], modality) -> None:
    """Load every item once, before any output exists: a file that does not
    read, or whose size differs from the first's, is an error naming it.
    (An IDX file's records share one size by construction.)"""
    first = modality.size(items[0].load())
    for item in items[1:]:
        size = modality.size(item.load())
        if size != first:
            raise InrError(f"{item.source}: size {size} differs from {items[0].source}'s {first}; the fields of "
                           "a collection share one size (resize the signals, or for images set data.resize)")
