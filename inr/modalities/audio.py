"""Audio: sample-centre times in [-1, 1] -> amplitude per channel, normalised by the peak."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from inr.errors import InrError
from inr.fields.evaluate import evaluate_fields_on_grid, evaluate_grid
from inr.grid import grid
from inr.modalities.audio_io import load_audio, write_audio
from inr.metrics import pairwise_l2
from inr.modalities.base import MODALITIES
from inr.modalities.image_io import picture_grid, write_image
from inr.plots import audio_png
from inr.train.losses import mse_loss
from inr.train.samplers import regression_errors


@dataclass
class AudioDataConfig:
    start: float = 0.0
    """seconds to skip at the start of the clip"""
    duration: float = 0.0
    """seconds to fit from ``start``; 0 = to the end"""


@dataclass
class AudioSignal:
    source: str
    samples: np.ndarray  # (N, C) divided by peak, so max |x| = 1
    rate: int
    peak: float
    subtype: str


def snr_db(pred, target):
    """Signal-to-noise ratio in dB: ``10 log10(sum target^2 / sum (target - pred)^2)``."""
    noise = jnp.sum((pred - target) ** 2)
    return 10.0 * jnp.log10(jnp.maximum(jnp.sum(target**2), 1e-20) / jnp.maximum(noise, 1e-20))


class AudioModality:
    name = "audio"
    data_config = AudioDataConfig
    in_dim = 1
    extensions = (".wav", ".flac", ".ogg")
    metric = ("snr", "SNR (dB)")
    render_options = ("rate",)
    progressive_encodings = True
    field_suffix = ".wav"
    defaults = {"fit": "audio.yaml", "collection": "audio-collection.yaml"}

    def load(self, path, cfg: AudioDataConfig) -> AudioSignal:
        samples, rate, subtype = load_audio(path)
        if cfg.start < 0 or cfg.duration < 0:
            raise InrError(f"data.start and data.duration must be >= 0 (got {cfg.start}, {cfg.duration})")
        first = int(round(cfg.start * rate))
        last = first + int(round(cfg.duration * rate)) if cfg.duration > 0 else samples.shape[0]
        samples = samples[first:last]
        if samples.shape[0] < 2:
            until = f"data.start + data.duration = {cfg.start + cfg.duration} s" if cfg.duration > 0 else "the end"
            raise InrError(f"{path}: fewer than 2 samples between data.start = {cfg.start} s and {until}")
        peak = float(np.max(np.abs(samples)))
        if peak == 0:
            raise InrError(f"{path}: the audio is silent (every sample is zero); nothing to fit")
        samples = samples / peak
        return AudioSignal(str(Path(path)), samples.astype(np.float32), rate, peak, subtype)

    def out_dim(self, signal: AudioSignal) -> int:
        return signal.samples.shape[1]

    def size(self, signal) -> tuple:
        return (*signal.samples.shape, signal.rate)

    def training_data(self, signal: AudioSignal, cfg) -> dict:
        coords = grid((signal.samples.shape[0],))
        return {"coords": jnp.asarray(coords), "targets": jnp.asarray(signal.samples)}

    def loss(self, apply, cfg, train_cfg):
        return mse_loss(apply, train_cfg.batch_size)

    def sample_errors(self, apply, cfg, signal):
        return regression_errors(apply, grid=signal.samples.shape[:1])

    def sample_count(self, signal) -> int:
        return int(signal.samples.shape[0])

    def score(self, apply, cfg):
        """Pure ``score(params, data) -> {"snr": dB}`` over the whole clip."""

        def score(params, data):
            return {"snr": snr_db(apply(params, data["coords"]), data["targets"])}

        return score

    def metadata(self, signal: AudioSignal, cfg) -> dict:
        n, c = signal.samples.shape
        return {
            "modality": self.name,
            "normalization": {"scale": 1.0 / signal.peak, "offset": 0.0},
            "signal": {"source": signal.source, "samples": n, "channels": c, "rate": signal.rate,
                       "seconds": n / signal.rate, "peak": signal.peak, "subtype": signal.subtype},
        }

    def decode(self, apply, params, meta: dict, rate: int | None = None) -> tuple[np.ndarray, int]:
        """``(samples (N, C) normalised as fitted, rate)``: the field sampled at
        ``rate`` over the clip's duration (the sample grid of that rate)."""
        sig = meta["signal"]
        rate = int(rate or sig["rate"])
        n = sig["samples"] if rate == sig["rate"] else max(2, int(round(sig["seconds"] * rate)))
        return evaluate_grid(apply, params, (n,)), rate

    def finish(self, run_dir, apply, params, signal: AudioSignal, cfg) -> dict:
        meta = self.metadata(signal, cfg)
        recon, rate = self.decode(apply, params, meta)
        write_audio(Path(run_dir) / "reconstruction.wav", recon * signal.peak, rate, signal.subtype)
        return {
            "mse": float(np.mean((recon - signal.samples) ** 2)),
            "snr": float(snr_db(recon, signal.samples)),
        }

    def figures(self, run_dir, apply, params, signal: AudioSignal, cfg) -> list:
        def comparison():
            recon, rate = self.decode(apply, params, self.metadata(signal, cfg))
            audio_png(signal.samples, recon, rate, Path(run_dir) / "comparison.png")

        return [("comparison.png", comparison)]

    def render(self, apply, params, meta: dict, out, rate=None) -> None:
        if rate is not None and rate < 1:
            raise InrError(f"--rate must be a positive number of samples per second (got {rate})")
        samples, rate = self.decode(apply, params, meta, rate)
        write_audio(out, samples * meta["signal"]["peak"], rate, meta["signal"]["subtype"])

    def render_many(self, apply, params_list, meta: dict, out, size=None, columns: int = 0) -> None:
        """Waveforms of several fields in one picture grid (default 64 x 256 each)."""
        h, w = tuple(size) if size else (64, 256)
        tiles = [waveform_tile(self.decode(apply, p, meta)[0], h, w) for p in params_list]
        write_image(out, picture_grid(tiles, columns))

    def from_array(self, array, source: str, cfg) -> AudioSignal:
        raise InrError(f"{source}: IDX files hold images; the audio modality cannot read them")

    classifiable = True

    def comparable(self, field, weights, meta: dict) -> np.ndarray:
        """Waveforms ``(N, samples * C)`` on the clip's sample grid, peak-normalised as fitted."""
        return evaluate_fields_on_grid(field, weights, (meta["signal"]["samples"],), batch=16)

    def distance(self, a, b) -> np.ndarray:
        return pairwise_l2(a, b)

    def describe(self, items) -> dict:
        return {}


def waveform_tile(samples: np.ndarray, h: int, w: int) -> np.ndarray:
    """An (h, w, 1) picture of a waveform in [-1, 1]: each column spans the
    min..max of its share of the samples (channels averaged), dark on white."""
    if h < 2 or w < 2:
        raise InrError(f"--size {w}x{h}: a waveform tile needs at least 2 x 2 pixels")
    mono = np.clip(np.nan_to_num(np.asarray(samples, np.float64).mean(axis=1)), -1.0, 1.0)
    cols = np.array_split(mono, w) if len(mono) >= w else [mono[[int(i * len(mono) / w)]] for i in range(w)]
    row = lambda v: np.clip(((1.0 - v) / 2.0 * (h - 1)).round().astype(int), 0, h - 1)  # noqa: E731
    tile = np.ones((h, w, 1), np.float32)
    for x, col in enumerate(cols):
        top, bottom = row(col.max()), row(col.min())
        tile[top:bottom + 1, x] = 0.15
    return tile


MODALITIES.register("audio", AudioModality())
