"""The model half of a field's spec: everything needed to rebuild its network."""
from __future__ import annotations

from dataclasses import dataclass, field

from inr.nn.encodings import EncodingConfig, HashEncoding
from inr.schema import own_keys


@dataclass
class ModelConfig:
    """Field model: encoding -> MLP (hidden layers with ``activation``) -> linear -> output activation.

    The defaults are the fastest-to-quality model on a CPU: a multiresolution
    hash encoding with a small ReLU MLP (``configs/image/hash.yaml``)."""

    encoding: EncodingConfig = field(default_factory=HashEncoding)
    activation: str = "relu"
    """hidden activation: relu | sine | sine_exact | finer | spder | spder_atan | gauss | wire"""
    omega0: float = 30.0
    """the hidden activations' scale: omega0 of sines, s of gauss"""
    first_omega0: float = 30.0
    """the first layer's activation scale"""
    activation_width: float = 10.0
    """second shape parameter of the activation: s0 of WIRE's Gabor wavelet"""
    hidden_width: int = 64
    hidden_layers: int = 2
    """number of activated layers of width hidden_width (SIREN 2-256-256-256-256-1 has 4)"""
    init: str = "glorot_normal"
    """weight initialiser: siren | glorot_normal | torch_default | wire (complex after the first layer)"""
    first_bias: float = 0.0
    """if > 0, first-layer biases ~ U(-first_bias, first_bias) (FINER's bias init); 0 keeps the initialiser's"""
    output_activation: str = "sigmoid"
    """identity | sigmoid | real (WIRE's real part)"""
    modulation: str = "none"
    """hidden-layer modulation: none | cam"""
    modulation_resolution: int = 32
    """cam: side of each layer's learnable modulation grid"""


# version-1 files held one flat encoding dict with every encoding's keys
_V1_ENCODING_RENAMES = {"sape_resolution": "resolution", "sape_epsilon": "epsilon"}


def upgrade_model(d: dict, version: int) -> dict:
    """A ``model`` dict written by format ``version`` in today's form: the
    flat version-1 encoding keeps only its own encoding's keys."""
    if version >= 2 or not isinstance(d, dict) or not isinstance(d.get("encoding"), dict):
        return d
    enc = {_V1_ENCODING_RENAMES.get(k, k): v for k, v in d["encoding"].items()}
    return {**d, "encoding": own_keys(EncodingConfig, enc, "identity")}
