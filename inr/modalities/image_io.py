"""Reading images into float arrays in [0, 1] and writing them back."""
from __future__ import annotations

import math
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image

from inr.atomic import atomic_path
from inr.errors import InrError, existing_file


def _to_unit(a: np.ndarray, path) -> np.ndarray:
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.integer):
        return (a.astype(np.float64) / np.iinfo(a.dtype).max).astype(np.float32)
    if np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise InrError(f"{path}: image holds non-finite values")
        return np.clip(a, 0.0, 1.0)
    raise InrError(f"{path}: unsupported pixel type {a.dtype}")


def load_image(path) -> tuple[np.ndarray, int]:
    """``(pixels, bit_depth)``: pixels (H, W, C) float32 in [0, 1], C = 1 or 3.

    Grayscale stays one channel; RGBA drops alpha, gray+alpha keeps gray.
    """
    path = existing_file(path)
    try:
        a = np.asarray(iio.imread(path))
    except Exception as err:  # imageio raises many types for unreadable files
        raise InrError(f"{path}: cannot read as an image ({type(err).__name__})") from None
    if a.ndim == 4 or (a.ndim == 3 and a.shape[-1] > 4):
        a = a[0]  # first frame of an animation or a multi-page file
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4):
        raise InrError(f"{path}: unsupported image shape {a.shape} (expected H x W with 1-4 channels)")
    if a.shape[0] < 2 or a.shape[1] < 2:
        raise InrError(f"{path}: image is {a.shape[0]}x{a.shape[1]} pixels; need at least 2x2")
    bits = 8 * a.dtype.itemsize if np.issubdtype(a.dtype, np.integer) else 32
    a = {1: a, 2: a[..., :1], 3: a, 4: a[..., :3]}[a.shape[-1]]
    return _to_unit(a, path), bits


def resize(pixels: np.ndarray, size) -> np.ndarray:
    """Resize (H, W, C) to ``(height, width)`` with Pillow's antialiased
    bilinear filter: a triangle filter widened by the reduction factor, the
    resampling torchvision's ``Resize`` (and so SIREN's Colab) applies."""
    h, w = pixels.shape[:2]
    th, tw = int(size[0]), int(size[1])
    if (th, tw) == (h, w):
        return pixels
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(pixels[..., c], np.float32), mode="F")
                   .resize((tw, th), Image.BILINEAR))
        for c in range(pixels.shape[-1])
    ]
    return np.stack(channels, axis=-1).astype(np.float32)


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    out = np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)
    return out[..., 0] if out.shape[-1] == 1 else out


def write_image(path, pixels: np.ndarray) -> None:
    """Write (H, W, C) values in [0, 1] as an 8-bit image, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        try:
            iio.imwrite(tmp, to_uint8(pixels), extension=path.suffix or ".png")
        except Exception as err:
            raise InrError(f"{path}: cannot write image ({err})") from None


def picture_grid(tiles: list, columns: int = 0) -> np.ndarray:
    """Equal-sized (H, W, C) pictures on a white sheet with 1-pixel gaps,
    ``columns`` across (0 = as square as possible)."""
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    h, w, c = tiles[0].shape
    sheet = np.ones(((h + 1) * rows - 1, (w + 1) * columns - 1, c), np.float32)
    for i, tile in enumerate(tiles):
        r, q = divmod(i, columns)
        sheet[r * (h + 1): r * (h + 1) + h, q * (w + 1): q * (w + 1) + w] = tile
    return sheet
