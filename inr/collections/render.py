"""Decode a collection's fields back into signals (an image grid, ...)."""
from __future__ import annotations

from inr.collections.format import load_collection
from inr.errors import InrError
from inr.modalities import MODALITIES

DEFAULT_COUNT = 64


def render_collection(root, out, indices=None, size=None, columns: int = 0) -> list[int]:
    """Render the chosen fields (default: the first 64) to ``out``; return their indices."""
    coll = load_collection(root)
    modality = MODALITIES.get(coll.meta.get("modality", ""))
    indices = list(range(min(len(coll), DEFAULT_COUNT))) if not indices else list(indices)
    bad = [i for i in indices if not 0 <= i < len(coll)]
    if bad:
        raise InrError(f"{root}: no field {bad[0]} (the collection has {len(coll)})")
    modality.render_many(coll.field.apply, [coll.params(i) for i in indices], coll.meta, out, size, columns)
    return indices
