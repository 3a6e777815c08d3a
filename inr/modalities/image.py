"""Images: pixel-centre coordinates in [-1, 1]^2 -> normalised colour."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import jax.numpy as jnp
import numpy as np

from inr.errors import InrError
from inr.fields.evaluate import evaluate_fields_on_grid, evaluate_grid
from inr.grid import grid
from inr.metrics import pairwise_l2, psnr, psnr_from_mse, ssim
from inr.modalities.base import MODALITIES, normalization
from inr.modalities.image_io import load_image, picture_grid, resize, write_image
from inr.registry import Registry
from inr.train.losses import mse_loss
from inr.train.samplers import regression_errors

# target = scale * pixel + offset, pixel in [0, 1]
NORMALIZATIONS: Registry = Registry("image normalization")
NORMALIZATIONS.register("unit", {"scale": 1.0, "offset": 0.0})
NORMALIZATIONS.register("symmetric", {"scale": 2.0, "offset": -1.0})

SPLITS: Registry = Registry("image split")


@SPLITS.register("all")
def _all(shape):
    """Train on every pixel; no held-out set."""
    return np.ones(shape, bool)


@SPLITS.register("even")
def _even(shape):
    """Tancik et al.'s generalisation split: train on pixels with even row and
    column, test on all the others."""
    mask = np.zeros(shape, bool)
    mask[::2, ::2] = True
    return mask


@SPLITS.register("random25")
def _random25(shape):
    """A fixed random 25% of the pixels (seed 0) for training, the rest for testing (SAPE)."""
    return np.random.default_rng(0).random(shape) < 0.25


@dataclass
class ImageDataConfig:
    resize: Optional[list[int]] = None
    """[height, width] to resize the image to before fitting (antialiased bilinear)"""
    normalize: str = "unit"
    """targets: unit = [0, 1]; symmetric = [-1, 1] (SIREN)"""
    split: str = "all"
    """pixels to train on: all | even (every other pixel) | random25 (a fixed random 25%); the rest are a test set"""


@dataclass
class ImageSignal:
    source: str
    pixels: np.ndarray  # (H, W, C) in [0, 1]
    bit_depth: int
    original_shape: tuple


class ImageModality:
    name = "image"
    data_config = ImageDataConfig
    in_dim = 2
    extensions = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp")
    metric = ("psnr", "PSNR (dB)")
    render_options = ("size",)
    progressive_encodings = True
    field_suffix = ".png"
    defaults = {"fit": "image.yaml", "collection": "image-collection.yaml"}

    def load(self, path, cfg: ImageDataConfig) -> ImageSignal:
        NORMALIZATIONS.get(cfg.normalize)
        SPLITS.get(cfg.split)
        pixels, bits = load_image(path)
        return ImageSignal(str(Path(path)), self._resized(pixels, cfg), bits, tuple(pixels.shape[:2]))

    def _resized(self, pixels, cfg):
        if cfg.resize is None:
            return pixels
        if len(cfg.resize) != 2 or min(cfg.resize) < 2:
            raise InrError(f"data.resize must be [height, width] with both >= 2 (got {cfg.resize})")
        return resize(pixels, cfg.resize)

    def out_dim(self, signal: ImageSignal) -> int:
        return signal.pixels.shape[-1]

    def size(self, signal) -> tuple:
        return tuple(signal.pixels.shape)

    def _normalise(self, cfg):
        return NORMALIZATIONS.get(cfg.normalize)

    def training_data(self, signal: ImageSignal, cfg) -> dict:
        norm = self._normalise(cfg)
        h, w, c = signal.pixels.shape
        mask = SPLITS.get(cfg.split)((h, w))
        coords = grid((h, w))[mask]
        targets = signal.pixels[mask] * norm["scale"] + norm["offset"]
        return {"coords": jnp.asarray(coords), "targets": jnp.asarray(targets)}

    def loss(self, apply, cfg, train_cfg):
        return mse_loss(apply, train_cfg.batch_size)

    def sample_errors(self, apply, cfg, signal):
        return regression_errors(apply, grid=signal.pixels.shape[:2] if cfg.split == "all" else None)

    def sample_count(self, signal) -> int:
        return int(signal.pixels.shape[0] * signal.pixels.shape[1])

    def score(self, apply, cfg):
        """Pure ``score(params, data) -> {"psnr": scalar}`` on training data,
        PSNR on [0, 1] with the prediction clipped to the valid range, as the
        final metrics are; jit it, or vmap it over a stack of fields."""
        norm = self._normalise(cfg)

        def score(params, data):
            pixels = jnp.clip((apply(params, data["coords"]) - norm["offset"]) / norm["scale"], 0.0, 1.0)
            target = (data["targets"] - norm["offset"]) / norm["scale"]
            return {"psnr": psnr_from_mse(jnp.mean((pixels - target) ** 2))}

        return score

    def from_array(self, pixels: np.ndarray, source: str, cfg) -> ImageSignal:
        """A signal from an in-memory ``(H, W)`` or ``(H, W, C)`` uint8 image
        (e.g. one digit of an IDX file)."""
        pixels = np.asarray(pixels)
        if pixels.ndim == 2:
            pixels = pixels[..., None]
        unit = pixels.astype(np.float32) / 255.0
        return ImageSignal(source, self._resized(unit, cfg), 8, tuple(pixels.shape[:2]))

    def metadata(self, signal: ImageSignal, cfg) -> dict:
        h, w, c = signal.pixels.shape
        return {
            "modality": self.name,
            "normalization": self._normalise(cfg),
            "signal": {"source": signal.source, "shape": [h, w], "channels": c,
                       "bit_depth": signal.bit_depth, "original_shape": list(signal.original_shape)},
        }

    def decode(self, apply, params, meta: dict, shape) -> np.ndarray:
        """The field as an image of ``shape`` (H, W), values in [0, 1] (unclipped)."""
        norm = normalization(meta)
        out = evaluate_grid(apply, params, tuple(shape))
        return (out - norm["offset"]) / norm["scale"]

    def finish(self, run_dir, apply, params, signal: ImageSignal, cfg) -> dict:
        meta = self.metadata(signal, cfg)
        recon = self.decode(apply, params, meta, signal.pixels.shape[:2])
        write_image(Path(run_dir) / "reconstruction.png", recon)
        metrics = {"psnr": psnr(recon, signal.pixels), "ssim": ssim(recon, signal.pixels)}
        mask = SPLITS.get(cfg.split)(signal.pixels.shape[:2])
        if not mask.all():
            metrics["train_psnr"] = psnr(recon[mask], signal.pixels[mask])
            metrics["test_psnr"] = psnr(recon[~mask], signal.pixels[~mask])
        return metrics

    def figures(self, run_dir, apply, params, signal: ImageSignal, cfg) -> list:
        return []  # reconstruction.png is the picture

    def render(self, apply, params, meta: dict, out, size=None) -> None:
        shape = tuple(size) if size else tuple(meta["signal"]["shape"])
        write_image(out, self.decode(apply, params, meta, shape))

    def render_many(self, apply, params_list, meta: dict, out, size=None, columns: int = 0) -> None:
        """Decode several fields into one picture grid (1-pixel gaps)."""
        shape = tuple(size) if size else tuple(meta["signal"]["shape"])
        tiles = [np.clip(self.decode(apply, p, meta, shape), 0.0, 1.0) for p in params_list]
        write_image(out, picture_grid(tiles, columns))

    classifiable = True

    def comparable(self, field, weights, meta: dict) -> np.ndarray:
        """Pixel vectors ``(N, H*W*C)`` in [0, 1] on the signal's grid."""
        norm = normalization(meta)
        out = evaluate_fields_on_grid(field, weights, meta["signal"]["shape"])
        return np.clip((out - norm["offset"]) / norm["scale"], 0.0, 1.0)

    def distance(self, a, b) -> np.ndarray:
        return pairwise_l2(a, b)

    def describe(self, items) -> dict:
        return {}


MODALITIES.register("image", ImageModality())
