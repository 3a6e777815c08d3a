"""Signal-quality metrics on values in [0, 1]."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from skimage.metrics import structural_similarity


def psnr_from_mse(mse, peak: float = 1.0):
    return 10.0 * jnp.log10(peak**2 / jnp.maximum(mse, 1e-20))


def psnr(pred, target) -> float:
    """PSNR in dB of ``pred`` (clipped to [0, 1]) against ``target`` in [0, 1]."""
    pred = np.clip(np.asarray(pred, np.float64), 0.0, 1.0)
    mse = np.mean((pred - np.asarray(target, np.float64)) ** 2)
    return float(10.0 * np.log10(1.0 / max(mse, 1e-20)))


def ssim(pred, target) -> float | None:
    """SSIM of two (H, W, C) images in [0, 1] (Wang et al. 2004: Gaussian
    window, sigma 1.5); images under 11 px use the largest odd box window that
    fits, and under 3 px have no SSIM (None)."""
    pred = np.clip(np.asarray(pred, np.float64), 0.0, 1.0)
    target = np.asarray(target, np.float64)
    small = min(target.shape[:2])
    if small < 3:
        return None
    if small >= 11:
        opts = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    else:
        opts = dict(win_size=small if small % 2 else small - 1)
    return float(structural_similarity(pred, target, data_range=1.0, channel_axis=-1, **opts))


def pairwise_l2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between rows of ``a`` (n, k) and ``b`` (m, k)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    sq = (a**2).sum(1)[:, None] + (b**2).sum(1)[None] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))
