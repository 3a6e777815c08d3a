"""Reading audio files into float arrays and writing them back (soundfile)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from inr.atomic import atomic_path
from inr.errors import InrError, existing_file


def load_audio(path) -> tuple[np.ndarray, int, str]:
    """``(samples, rate, subtype)``: samples (N, C) float32 as stored (PCM
    scaled to [-1, 1]), one column per channel."""
    path = existing_file(path)
    try:
        samples, rate = sf.read(path, dtype="float32", always_2d=True)
        subtype = sf.info(path).subtype
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        raise InrError(f"{path}: cannot read as audio ({str(err).splitlines()[0][:120]})") from None
    if samples.shape[0] < 2:
        raise InrError(f"{path}: audio has {samples.shape[0]} samples; need at least 2")
    if not np.all(np.isfinite(samples)):
        raise InrError(f"{path}: audio holds non-finite samples")
    return samples, int(rate), subtype


def write_audio(path, samples: np.ndarray, rate: int, subtype: str | None = None) -> None:
    """Write (N, C) samples in [-1, 1] atomically; the format follows the
    suffix (.wav, .flac, .ogg), clipping to [-1, 1] for integer formats."""
    path = Path(path)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}.get(path.suffix.lower())
    if fmt is None:
        raise InrError(f"{path}: unsupported audio suffix (use .wav, .flac or .ogg)")
    if subtype is None or not sf.check_format(fmt, subtype):
        subtype = sf.default_subtype(fmt)
    if not subtype.startswith(("FLOAT", "DOUBLE")):
        samples = np.clip(samples, -1.0, 1.0)
    with atomic_path(path) as tmp:
        try:
            sf.write(tmp, np.asarray(samples, np.float32), int(rate), subtype=subtype, format=fmt)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            raise InrError(f"{path}: cannot write audio ({err})") from None
