"""The one coordinate grid used by fitting, rendering and export.

Sample centres in [-1, 1]: along an axis of n samples, centre i sits at
``(2 i + 1) / n - 1``. Coordinate k indexes array axis k (for an image:
row, then column), so a grid of another shape samples the same domain and
rendering at another resolution is just another grid.
"""
from __future__ import annotations

import numpy as np


def axis_centers(n: int) -> np.ndarray:
    return ((2.0 * np.arange(n) + 1.0) / n - 1.0).astype(np.float32)


def grid(shape) -> np.ndarray:
    """Coordinates of every sample of an array of ``shape``: ``shape + (len(shape),)``."""
    axes = np.meshgrid(*[axis_centers(n) for n in shape], indexing="ij")
    return np.stack(axes, axis=-1)
