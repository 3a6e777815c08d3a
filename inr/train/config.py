"""Training-loop settings."""
from __future__ import annotations

from dataclasses import dataclass, field

from inr.train.samplers import SamplerConfig, UniformSampler


@dataclass
class TrainConfig:
    """The one training loop's settings, the ``train:`` section of every verb
    (one field, a stack of fields, meta-init's outer loop, weight-space models,
    denoisers); each verb starts from its own defaults."""

    steps: int = 300
    optimizer: str = "adam"
    """adam | adamw | sgd"""
    lr: float = 1e-2
    b1: float = 0.9
    """Adam beta1"""
    b2: float = 0.999
    """Adam beta2 (Instant-NGP uses 0.99)"""
    eps: float = 1e-8
    """Adam epsilon (Instant-NGP uses 1e-15)"""
    schedule: str = "cosine"
    """constant | cosine | exponential | step"""
    warmup: int = 0
    """steps of linear lr warm-up from 0 before the schedule (at most half of the steps)"""
    decay_rate: float = 0.1
    """exponential/cosine: final lr factor; step: factor applied at each boundary"""
    boundaries: list[float] = field(default_factory=lambda: [0.5, 0.75])
    """step schedule: fractions of training at which lr is multiplied by decay_rate"""
    lr_multipliers: dict[str, float] = field(default_factory=dict)
    """per top-level params entry (encoding, modulation, mlp): lr factor, e.g. {modulation: 10} (CAM)"""
    weight_decay: float = 0.0
    batch_size: int = 0
    """random samples per step; 0 (or at least the signal's size) = the full signal every step"""
    sampler: SamplerConfig = field(default_factory=UniformSampler)
    """which samples a fit trains on, typed by name: uniform (all, or random minibatches) | int (the
    worst-fitted, a growing share; Zhang et al. 2024) | evos (the least fit and a random draw; Zhang et al.
    2025) | soft_mining (Langevin-moved, importance-weighted; Kheradmand et al. 2024) | nint (residual-, NTK-ranked and
    random; Zhang et al. 2026): inr.train.samplers"""
    steps_per_call: int = 50
    """steps fused into one jitted call (lax.scan); also the logging and evaluation interval"""
    checkpoint_every: int = 100
    max_seconds: float = 0.0
    """stop after this much training wall time (compile included), at a chunk end; 0 = no limit"""
    grad_clip: float = 0.0
    """clip gradients to this global norm; 0 = off"""
    ema: float = 0.0
    """decay of an exponential moving average of the weights kept beside them (what a denoiser
    samples with); 0 = none"""
