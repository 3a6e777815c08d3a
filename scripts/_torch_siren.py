"""A PyTorch SIREN in the style of the paper's official Colab, for bench_image.py.

Optional: needs ``torch`` (not in requirements.txt). Written from the paper's
method (Sitzmann et al. 2020, Sec. 3.2 and its supplement): sine layers
``sin(omega0 (x W + b))`` with omega0 = 30, the first layer's weights
U(-1/n, 1/n), the others' U(-sqrt(6/n)/omega0, sqrt(6/n)/omega0), biases
left at ``nn.Linear``'s default, a linear output layer initialised like a
hidden one; coordinates on linspace(-1, 1) per axis, targets in [-1, 1],
Adam on the full-batch MSE.
"""
from __future__ import annotations

import importlib.util
import math
import statistics
import time

import numpy as np


def available() -> bool:
    return importlib.util.find_spec("torch") is not None


def _network(widths: list[int], omega0: float):
    import torch
    from torch import nn

    class Sine(nn.Module):
        def __init__(self, n_in: int, n_out: int, first: bool):
            super().__init__()
            self.linear = nn.Linear(n_in, n_out)
            bound = 1.0 / n_in if first else math.sqrt(6.0 / n_in) / omega0
            with torch.no_grad():
                self.linear.weight.uniform_(-bound, bound)

        def forward(self, x):
            return torch.sin(omega0 * self.linear(x))

    layers = [Sine(a, b, i == 0) for i, (a, b) in enumerate(zip(widths[:-2], widths[1:-1]))]
    last = nn.Linear(widths[-2], widths[-1])
    bound = math.sqrt(6.0 / widths[-2]) / omega0
    with torch.no_grad():
        last.weight.uniform_(-bound, bound)
    return nn.Sequential(*layers, last)


def _axis(n: int, centres: bool):
    import torch

    return (2.0 * torch.arange(n) + 1.0) / n - 1.0 if centres else torch.linspace(-1, 1, n)


def fit(pixels: np.ndarray, steps: int, seed: int, checkpoints: list[int], lr: float = 1e-4,
        widths: tuple[int, ...] = (2, 256, 256, 256, 256, 1), omega0: float = 30.0, centres: bool = False,
        init: list[tuple[np.ndarray, np.ndarray]] | None = None) -> dict:
    """Fit ``pixels`` (H, W) in [0, 1]; PSNR (clipped, on [0, 1]) at each
    checkpoint step, the final PSNR and the median seconds per step.
    Coordinates are the Colab's ``linspace(-1, 1)``, or with ``centres``
    inr's pixel centres ``(2 i + 1) / n - 1``. ``init``: starting weights
    ``[(W (n_in, n_out), b), ...]`` in place of the network's own draw."""
    import torch

    torch.manual_seed(seed)
    h, w = pixels.shape
    axes = torch.meshgrid(_axis(h, centres), _axis(w, centres), indexing="ij")
    coords = torch.stack(axes, dim=-1).reshape(-1, 2)
    target = torch.from_numpy(np.asarray(pixels, np.float32).reshape(-1, 1)) * 2.0 - 1.0
    model = _network(list(widths), omega0)
    if init is not None:
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        with torch.no_grad():
            for linear, (weight, bias) in zip(linears, init, strict=True):
                linear.weight.copy_(torch.from_numpy(np.array(weight, np.float32).T))
                linear.bias.copy_(torch.from_numpy(np.array(bias, np.float32)))
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def psnr() -> float:
        with torch.no_grad():
            pred = ((model(coords) + 1.0) / 2.0).clamp(0.0, 1.0)
            mse = torch.mean((pred - (target + 1.0) / 2.0) ** 2).item()
        return -10.0 * math.log10(mse)

    at, times = {}, []
    for step in range(1, steps + 1):
        t0 = time.perf_counter()
        loss = torch.mean((model(coords) - target) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        if step in checkpoints:
            at[step] = psnr()
    return {"psnr_at": at, "psnr": psnr(), "seconds_per_step": statistics.median(times)}
