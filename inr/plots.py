"""Training curves as PNG."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from inr.atomic import atomic_path  # noqa: E402


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
    for col, (name, x) in enumerate((("target", target), ("fit", fit))):
        ax = fig.add_subplot(grid[1, col])
        with np.errstate(divide="ignore"):  # silent frames are -inf dB, drawn as the floor
            ax.specgram(x, NFFT=nfft, Fs=rate, noverlap=nfft // 2, cmap="magma", vmin=-120)
        ax.set_title(f"{name} spectrogram", fontsize=9)
        ax.set_xlabel("seconds")
        ax.set_ylabel("Hz")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
