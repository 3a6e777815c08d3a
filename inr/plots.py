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
