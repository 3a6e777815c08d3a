"""Figures as PNG: training curves, confusion matrices, audio comparisons.

Each one draws any finite input, constant, silent or a single point; and
:func:`drawn` makes a figure that fails anyway a warning, never a lost run.
"""
from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from inr.atomic import atomic_path  # noqa: E402


def drawn(path, draw) -> bool:
    """Call ``draw()`` (which writes ``path``); a failure is reported on stderr
    as a warning naming the figure, and the caller's run goes on without it."""
    try:
        draw()
        return True
    except Exception as err:  # noqa: BLE001 - a figure is never worth the run it illustrates
        print(f"inr: warning: {path}: not drawn ({type(err).__name__}: {err})", file=sys.stderr)
        return False


def curve_png(history: list[dict], path, metric: str = "psnr", label: str = "PSNR (dB)") -> None:
    """``metric`` against step and against wall seconds, side by side."""
    steps = [r["step"] for r in history if metric in r]
    secs = [r["seconds"] for r in history if metric in r]
    vals = [r[metric] for r in history if metric in r]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
    for ax, x, xlabel in ((axes[0], steps, "step"), (axes[1], secs, "wall seconds (compile included)")):
        ax.plot(x, vals, marker=".", lw=1.2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def curves_png(named: dict[str, list[dict]], path, metric: str = "psnr", label: str = "PSNR (dB)") -> None:
    """One line per run: ``metric`` against wall seconds."""
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for name, history in named.items():
        pts = [(r["seconds"], r[metric]) for r in history if metric in r]
        if pts:
            ax.plot(*zip(*pts), marker=".", lw=1.2, label=name)
    ax.set_xlabel("wall seconds (compile included)")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def confusion_png(matrix, path, title: str = "") -> None:
    """A confusion matrix (rows: true class, columns: predicted) with counts."""
    import numpy as np

    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(5, 4.5), constrained_layout=True)
    ax.imshow(m, cmap="Blues")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > m.max() / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_xticks(range(m.shape[1]))
    ax.set_yticks(range(m.shape[0]))
    ax.set_title(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def audio_png(target, fit, rate: int, path) -> None:
    """Waveforms (target, fit and their difference) above the two
    spectrograms (dB), first channel, for judging an audio fit by eye."""
    import numpy as np

    target, fit = np.asarray(target)[:, 0], np.asarray(fit)[:, 0]
    t = np.arange(len(target)) / rate
    fig = plt.figure(figsize=(11, 6), constrained_layout=True)
    grid = fig.add_gridspec(2, 2)
    wave = fig.add_subplot(grid[0, :])
    wave.plot(t, target, lw=0.5, label="target")
    wave.plot(t, fit, lw=0.5, alpha=0.8, label="fit")
    wave.plot(t, target - fit, lw=0.5, alpha=0.8, label="difference")
    wave.set_xlabel("seconds")
    wave.legend(fontsize=8, loc="upper right")
    nfft = int(min(1024, 2 ** np.floor(np.log2(max(len(target) // 4, 16)))))
    specs = [spectrogram_db(x, nfft, rate) for x in (target, fit)]
    top = max((float(s.max()) for s, _, _ in specs), default=0.0)
    for col, (name, (db, freqs, times)) in enumerate(zip(("target", "fit"), specs)):
        ax = fig.add_subplot(grid[1, col])
        # one colour scale for both, SPECTROGRAM_RANGE dB below the louder; silence sits at the floor
        ax.pcolormesh(times, freqs, db, cmap="magma", vmin=top - SPECTROGRAM_RANGE, vmax=top, shading="auto")
        ax.set_title(f"{name} spectrogram", fontsize=9)
        ax.set_xlabel("seconds")
        ax.set_ylabel("Hz")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)


SPECTROGRAM_RANGE = 120.0
"""dB between the loudest bin of an audio comparison's spectrograms and their colour floor"""


def spectrogram_db(x, nfft: int, rate: int):
    """``(power in dB (F, T), frequencies, times)`` of a 1-D signal, every bin
    finite (a silent bin is -300 dB, below any colour floor)."""
    import numpy as np
    from matplotlib import mlab

    x = np.asarray(x, np.float64)
    if len(x) < 2 * nfft:  # a clip shorter than two windows is zero-padded to two
        x = np.pad(x, (0, 2 * nfft - len(x)))
    power, freqs, times = mlab.specgram(x, NFFT=nfft, Fs=rate, noverlap=nfft // 2)
    return 10 * np.log10(np.maximum(power, 1e-30)), freqs, times
