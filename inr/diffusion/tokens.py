"""Weights as tokens: one token per weight or bias tensor of the canonical layout."""
from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True)
class Tokenizer:
    """Cuts a flat weight vector (canonical layout) into its tensors and back."""

    names: tuple
    offsets: tuple
    shapes: tuple

    @classmethod
    def from_layout(cls, layout: list[dict]) -> "Tokenizer":
        entries = sorted(layout, key=lambda e: e["offset"])
        return cls(tuple(e["name"] for e in entries), tuple(e["offset"] for e in entries),
                   tuple(tuple(e["shape"]) for e in entries))

    @property
    def layout(self) -> list[dict]:
        """The canonical layout it was made from."""
        return [{"name": n, "shape": list(s), "offset": o} for n, s, o in zip(self.names, self.shapes, self.offsets)]

    @property
    def sizes(self) -> tuple:
        return tuple(int(np.prod(s)) for s in self.shapes)  # a scalar's shape () has size 1

    @property
    def size(self) -> int:
        return self.offsets[-1] + self.sizes[-1]

    def pieces(self, max_size: int = 0) -> list[tuple[int, int]]:
        """``(offset, size)`` of every token in layout order: one per tensor, or,
        with ``max_size > 0``, each tensor cut into the fewest near-equal
        contiguous pieces of at most ``max_size`` values (G.pt's chunking)."""
        out = []
        for o, n in zip(self.offsets, self.sizes):
            k = -(-n // max_size) if max_size > 0 else 1
            bounds = [o + (n * i) // k for i in range(k + 1)]
            out.extend((a, b - a) for a, b in zip(bounds[:-1], bounds[1:]))
        return out

    def split(self, flat, max_size: int = 0) -> list:
        """(B, P) -> one ``(B, size)`` slice per token of :meth:`pieces`, in layout order."""
        return [flat[:, o:o + n] for o, n in self.pieces(max_size)]

    def join(self, parts: list):
        return jnp.concatenate(parts, axis=-1)
