"""The model half of a field's spec: everything needed to rebuild its network."""
from __future__ import annotations

from dataclasses import dataclass, field

from inr.nn.activations import ActivationConfig, ReluActivation
from inr.nn.encodings import EncodingConfig, HashEncoding
from inr.schema import RENAMED, own_keys


@dataclass
class ModelConfig:
    """Field model: encoding -> MLP (hidden layers with ``activation``) -> linear -> output activation.

    The defaults are the fastest-to-quality model on a CPU: a multiresolution
    hash encoding with a small ReLU MLP (``configs/image/hash.yaml``)."""

    encoding: EncodingConfig = field(default_factory=HashEncoding)
    activation: ActivationConfig = field(default_factory=ReluActivation)
    """hidden activation, typed by name: relu | sine | sine_exact | finer | spder | spder_atan | gauss | wire"""
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
# version-2 files held the activation's keys beside its name in the model
_V2_ACTIVATION_KEYS = {"omega0": ("omega0", "scale"), "first_omega0": ("first_omega0", "first_scale"),
                       "activation_width": ("s0",)}
RENAMED.update({f"ModelConfig.{old}": f"model.activation.{new[0]}" for old, new in _V2_ACTIVATION_KEYS.items()})


def upgrade_model(d: dict, version: int) -> dict:
    """A ``model`` dict written by format ``version`` in today's form: the
    flat version-1 encoding keeps only its own encoding's keys; the version-2
    activation (a name, its keys beside it in the model) becomes its section."""
    if not isinstance(d, dict):
        return d
    if version < 2 and isinstance(d.get("encoding"), dict):
        enc = {_V1_ENCODING_RENAMES.get(k, k): v for k, v in d["encoding"].items()}
        d = {**d, "encoding": own_keys(EncodingConfig, enc, "identity")}
    if version < 3 and not isinstance(d.get("activation"), dict):
        d = dict(d)
        act = {"name": d.pop("activation", "relu")}
        for old, new in _V2_ACTIVATION_KEYS.items():
            if old in d:
                value = d.pop(old)
                act.update({k: value for k in new})
        d["activation"] = own_keys(ActivationConfig, act, "relu")
    return d
