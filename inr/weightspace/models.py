"""Networks on weight spaces, as ``flax.nnx`` modules: DWSNet (equivariant
layers + invariant head) and the flattened-weights MLP baseline. The registry
hands them to the training loop as pure ``init(key) -> params`` and
``apply(params, tensors) -> logits`` (inr/learned.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from inr.errors import InrError
from inr.learned import Functional, dense, functional, relu_mlp
from inr.nn import draws
from inr.registry import Registry
from inr.schema import own_keys, register_variant
from inr.weightspace import dws
from inr.weightspace.probes import Probe
from inr.weightspace.space import WeightSpace


@dataclass
class WeightModelConfig:
    """The weight-space model, typed by ``name`` (see :mod:`inr.schema`): dws
    (DWSNet) | mlp (MLP on the flattened weights) | nfn_hnp | nfn_np (neural
    functionals, inr/weightspace/nfn.py) | ng_gnn | ng_t | scale_gmn (graph
    metanetworks, inr/weightspace/graph.py); each holds only its own keys."""

    name: str = "dws"
    sign_invariant: ClassVar[bool] = False
    """invariant to sign flips of hidden neurons; its inputs are then standardized by scale alone"""


@register_variant(WeightModelConfig, "dws")
@dataclass
class DWSNetConfig(WeightModelConfig):
    name: str = "dws"
    channels: int = 16
    """hidden channels of each DWS layer"""
    layers: int = 4
    """DWS layers"""
    pool: str = "max"
    """pooling in the layers and the invariant head: mean | max"""
    attention: bool = False
    """set-layer maps add self-attention over the neurons (DWSNets' SAB set layer;
    with 64 probes, linear set layers beat attention + input augmentation on
    MNIST INRs: 88.4 % against 85.9 % test accuracy, 412 s against 999 s on 2 cores)"""
    heads: int = 8
    """attention heads; a map whose output width w it does not divide uses gcd(heads, w)"""
    norm: bool = True
    """standardize channels between DWS layers"""
    probes: int = 64
    """probe points: each field's neuron activations at this many learned input
    points, initialised uniformly in [-1, 1]^d, enter the first DWS layer as
    per-neuron features (Kofinas et al.'s probe features); 0: weights only, as DWSNets"""
    head: list[int] = field(default_factory=lambda: [128, 128])
    """hidden widths of the head MLP"""


@register_variant(WeightModelConfig, "mlp")
@dataclass
class FlatMLPConfig(WeightModelConfig):
    name: str = "mlp"
    head: list[int] = field(default_factory=lambda: [128, 128])
    """hidden widths of the MLP on the flattened weights"""


def upgrade_v1(model: dict) -> dict:
    """A model section saved by format 1 (every model's keys in one flat
    section, perhaps without ``attention`` / ``probes``, which were then off)
    -> its variant's keys."""
    if model.get("name", "dws") == "dws":
        model = {"attention": False, "probes": 0, **model}
    return own_keys(WeightModelConfig, model, "dws")


def mlp_layers(widths, rngs) -> nnx.List:
    """An MLP's linear layers (for :func:`inr.learned.relu_mlp`), He normal."""
    return nnx.List([dense(a, b, rngs, scale=2 ** 0.5) for a, b in zip(widths[:-1], widths[1:])])


WEIGHT_MODELS: Registry = Registry("weight-space model")
"""name -> ``(cfg, space, n_out, probe) -> Functional`` (inr/learned.py): ``init(key)``
and ``apply(params, tensors) -> logits (B, n_out)``"""


class ProbeFeatures(nnx.Module):
    """Per-neuron features ``(B, d_i, C)`` of layers 1..L: each field's
    activations at ``n`` learned probe points (initialised uniformly in
    [-1, 1]^d), one linear map per layer, then standardized per neuron."""

    def __init__(self, probe: Probe, n: int, space: WeightSpace, channels: int, rngs: nnx.Rngs):
        self.probe = probe
        self.coords = nnx.Param(draws.uniform(rngs.params(), (n, probe.in_dim), minval=-1.0, maxval=1.0))
        self.proj = nnx.List([dense(n, channels, rngs, scale=2 ** 0.5) for _ in range(space.depth)])

    def __call__(self, xs: list) -> list:
        acts = self.probe.run(self.coords[...], xs)
        return dws.channel_norm([p(a) for a, p in zip(acts, self.proj)])


def add_probe_features(space: WeightSpace, xs: list, feats: list) -> list:
    """The tensors with each layer's probe features added to its bias tensor
    b_1..b_L (one feature vector per neuron, so they permute with it)."""
    xs = list(xs)
    for j, f in enumerate(feats, start=space.depth):
        xs[j] = xs[j] + f.reshape(xs[j].shape)
    return xs


def check_probes(cfg, probe: Probe | None) -> None:
    if cfg.probes and probe is None:
        raise InrError("model.probes needs the fields' model (give the collection)")


class Gain(nnx.Module):
    """A learned factor on a predicted change of weights, starting at 0 so
    that an edit starts from the input fields."""

    def __init__(self):
        self.gain = nnx.Param(jnp.zeros(()))

    def __call__(self, xs: list) -> list:
        return [x * self.gain[...] for x in xs]


class EquivariantOutput(nnx.Module):
    """The weight-space head of an equivariant network: a DWS layer to one
    channel per weight, times a :class:`Gain` (for ``task: edit``)."""

    def __init__(self, space: WeightSpace, channels: int, rngs: nnx.Rngs, pool: str = "mean"):
        self.layer, self.gain = dws.DWSLinear(space, channels, 1, pool=pool, rngs=rngs), Gain()

    def __call__(self, xs: list) -> list:
        return self.gain(self.layer(xs))


class DWSNet(nnx.Module):
    """DWS layers (ReLU, channel norm between them), then invariant pooling and
    an MLP head, or with ``equivariant`` an :class:`EquivariantOutput`."""

    def __init__(self, cfg: DWSNetConfig, space: WeightSpace, n_out: int, probe: Probe | None,
                 rngs: nnx.Rngs, equivariant: bool = False):
        chans = [1] + [cfg.channels] * cfg.layers
        self.space, self.pool, self.norm = space, cfg.pool, cfg.norm
        self.layers = nnx.List([dws.DWSLinear(space, a, b, attention=cfg.attention, heads=cfg.heads, pool=cfg.pool,
                                              rngs=rngs) for a, b in zip(chans[:-1], chans[1:])])
        self.out = EquivariantOutput(space, cfg.channels, rngs, cfg.pool) if equivariant else None
        self.head = None if equivariant else mlp_layers(
            [sum(t.fixed for t in space.tensors) * cfg.channels, *cfg.head, n_out], rngs)
        self.probe = ProbeFeatures(probe, cfg.probes, space, cfg.channels, rngs) if cfg.probes else None

    def __call__(self, xs: list):
        # probe activations land on the first layer's bias tensors b_1..b_L, one per layer's neurons
        feats = self.probe(xs) if self.probe is not None else []
        for i, layer in enumerate(self.layers):
            xs = layer(xs)
            if i == 0:
                xs = add_probe_features(self.space, xs, feats)
            xs = [jax.nn.relu(x) for x in xs]
            if self.norm and i < len(self.layers) - 1:
                xs = dws.channel_norm(xs)
        if self.out is not None:
            return self.out(xs)
        return relu_mlp(self.head, dws.invariant_pool(self.space, xs, self.pool))


@WEIGHT_MODELS.register("dws")
def dwsnet(cfg: DWSNetConfig, space: WeightSpace, n_out: int, probe: Probe | None = None,
           equivariant: bool = False) -> Functional:
    check_probes(cfg, probe)
    return functional(lambda rngs: DWSNet(cfg, space, n_out, probe, rngs, equivariant))


class FlatMLP(nnx.Module):
    """The baseline: an MLP on all weights concatenated (not invariant; the
    DWS options, probes included, do not apply)."""

    def __init__(self, cfg: FlatMLPConfig, space: WeightSpace, n_out: int, rngs: nnx.Rngs,
                 equivariant: bool = False):
        size = sum(int(np.prod(space.shape(t, 1))) for t in space.tensors)
        self.space = space
        self.head = mlp_layers([size, *cfg.head, size if equivariant else n_out], rngs)
        self.gain = Gain() if equivariant else None  # then it predicts every weight's change

    def __call__(self, xs: list):
        y = relu_mlp(self.head, jnp.concatenate([x.reshape(x.shape[0], -1) for x in xs], axis=-1))
        if self.gain is None:
            return y
        return self.gain([a.reshape(x.shape) for a, x in zip(jnp.split(y, np.cumsum([x[0].size for x in xs])[:-1], -1),
                                                              xs)])


@WEIGHT_MODELS.register("mlp")
def flat_mlp(cfg: FlatMLPConfig, space: WeightSpace, n_out: int, probe: Probe | None = None,
             equivariant: bool = False) -> Functional:
    return functional(lambda rngs: FlatMLP(cfg, space, n_out, rngs, equivariant))


# the other families register themselves here, beside the ones above
from inr.weightspace import graph, nfn  # noqa: E402,F401
