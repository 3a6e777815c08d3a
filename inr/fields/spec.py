"""The model half of a field's spec: everything needed to rebuild its network."""
from __future__ import annotations

from dataclasses import dataclass, field

from inr.nn.encodings import EncodingConfig


@dataclass
class ModelConfig:
    """Field model: encoding -> MLP (hidden layers with ``activation``) -> linear -> output activation."""

    encoding: EncodingConfig = field(default_factory=EncodingConfig)
    activation: str = "sine"
    """hidden activation: relu | sine | sine_exact | finer | spder | spder_atan | gauss"""
    omega0: float = 30.0
    """the hidden activations' scale: omega0 of sines, s of gauss"""
    first_omega0: float = 30.0
    """the first layer's activation scale"""
    hidden_width: int = 256
    hidden_layers: int = 4
    """number of activated layers of width hidden_width (SIREN 2-256-256-256-256-1 has 4)"""
    init: str = "siren"
    """weight initialiser: siren | glorot_normal | torch_default"""
    first_bias: float = 0.0
    """if > 0, first-layer biases ~ U(-first_bias, first_bias) (FINER's bias init); 0 keeps the initialiser's"""
    output_activation: str = "identity"
    """identity | sigmoid"""
