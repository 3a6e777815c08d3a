"""Neural functionals (Zhou et al., NeurIPS 2023, "Permutation Equivariant
Neural Functionals"): NFN-HNP and NFN-NP, as ``flax.nnx`` modules.

Both layers are built from the DWS block terms (inr/weightspace/dws.py):

- HNP (hidden neurons permutable, inputs and outputs fixed) spans the same
  equivariant maps as a DWS layer -- the paper notes the equivalence with
  Navon et al.'s concurrent characterisation -- so it is
  :class:`~inr.weightspace.dws.DWSLinear` on the fields' space.
- NP lets the input and output neurons permute too. Its layer (pointwise,
  row- and column-pooled, neighbouring layers' pooled and globally pooled
  terms) is the DWS construction on ``WeightSpace(widths, io=True)``, where
  every layer is a permuted axis and nothing is folded into channels: fewer
  parameters (no per-input/output kernels), a larger symmetry. Fields do not
  have that symmetry (x and y are not interchangeable), so as in NFN's
  "NP-PosEmb" every layer adds a learned embedding to the input neurons' and
  the output neurons' entries, which breaks it again.

What NFN puts around its layers: each weight value lifted to random Fourier
features (their Gaussian Fourier input encoding), ReLU (and channel
standardization, ``norm``) between layers, mean
pooling to an invariant vector (HNP keeps the input/output axes, NP pools
everything), and an MLP head; for editing, a last equivariant layer to one
channel per weight instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from inr.learned import Functional, functional, relu_mlp
from inr.nn import draws
from inr.schema import register_variant
from inr.weightspace import dws
from inr.weightspace.models import (WEIGHT_MODELS, EquivariantOutput, ProbeFeatures, WeightModelConfig,
                                    add_probe_features, check_probes, mlp_layers)
from inr.weightspace.probes import Probe
from inr.weightspace.space import WeightSpace

FOURIER_SEED = 17
"""the Fourier features' frequencies are fixed (not trained) and drawn from this seed"""


@dataclass
class NFNConfig(WeightModelConfig):
    name: str = "nfn_hnp"
    channels: int = 32
    """channels of each equivariant layer (NFN's MNIST model: 512, sized here for a CPU)"""
    layers: int = 3
    """equivariant layers"""
    fourier: int = 16
    """random Fourier features per weight value (sin and cos of each, beside the value); 0: the value alone"""
    fourier_scale: float = 1.0
    """std of their frequencies, for standardized weights"""
    norm: bool = False
    """standardize channels between layers (NFN's optional layer norm; the signal shrinks about 3x a layer
    at init without it). Measured on MNIST INRs, 2,000 steps, one seed: NFN-NP 40.4 % with, 35.5 % without
    (it fit 42 % of its training digits); NFN-HNP 47.1 % with, 56.5 % without. So on for NP only"""
    probes: int = 0
    """probe points whose per-neuron activations join the first layer (as model dws; 0: weights only)"""
    head: list[int] = field(default_factory=lambda: [256, 256])
    """hidden widths of the head MLP"""
    io: ClassVar[bool] = False
    """its layers also treat the input and output neurons as permutable (NP)"""


@register_variant(WeightModelConfig, "nfn_hnp")
@dataclass
class NFNHNPConfig(NFNConfig):
    name: str = "nfn_hnp"


@register_variant(WeightModelConfig, "nfn_np")
@dataclass
class NFNNPConfig(NFNConfig):
    name: str = "nfn_np"
    norm: bool = True
    io: ClassVar[bool] = True


def fourier_features(xs: list, n: int, scale: float) -> list:
    """Each scalar ``x`` -> ``[x, sin(2 pi x B), cos(2 pi x B)]`` with ``n``
    fixed frequencies ``B ~ N(0, scale^2)``: pointwise, so equivariant."""
    if n == 0:
        return xs
    freqs = 2 * jnp.pi * scale * jax.random.normal(jax.random.PRNGKey(FOURIER_SEED), (n,))
    return [jnp.concatenate([x[..., None], jnp.sin(x[..., None] * freqs), jnp.cos(x[..., None] * freqs)],
                            -1).reshape(x.shape[:-1] + (-1,)) for x in xs]


class IOEmbedding(nnx.Module):
    """Learned per-neuron embeddings of the input and output neurons, added to
    the NP tensors W_1 (along its input axis), W_L and b_L (along the output axis)."""

    def __init__(self, space: WeightSpace, channels: int, rngs: nnx.Rngs):
        d, L = space.widths, space.depth
        self.w_in = nnx.Param(draws.normal(rngs.params(), (d[0], 1, channels)))
        self.w_out = nnx.Param(draws.normal(rngs.params(), (1, d[L], channels)))
        self.b_out = nnx.Param(draws.normal(rngs.params(), (d[L], channels)))
        self.depth = L

    def __call__(self, xs: list) -> list:
        xs = list(xs)
        L = self.depth
        xs[0] = xs[0] + self.w_in[...]
        xs[L - 1] = xs[L - 1] + self.w_out[...]
        xs[2 * L - 1] = xs[2 * L - 1] + self.b_out[...]
        return xs


class NFN(nnx.Module):
    """Fourier-encoded weights -> equivariant layers (ReLU) -> mean pooling -> MLP head;
    on the fields' space (HNP) or the one where inputs and outputs permute too (NP)."""

    def __init__(self, cfg: NFNConfig, space: WeightSpace, n_out: int, probe: Probe | None, rngs: nnx.Rngs,
                 equivariant: bool = False):
        self.cfg, self.space = cfg, space
        self.inner = WeightSpace(space.widths, io=True) if cfg.io else space
        c0 = 1 + 2 * cfg.fourier
        chans = [c0] + [cfg.channels] * cfg.layers
        self.layers = nnx.List([dws.DWSLinear(self.inner, a, b, pool="mean", rngs=rngs)
                                for a, b in zip(chans[:-1], chans[1:])])
        self.io = nnx.List([IOEmbedding(self.inner, c, rngs) for c in chans[:-1]] if self.inner.io else [])
        pooled = sum(t.fixed for t in self.inner.tensors) * cfg.channels
        self.out = EquivariantOutput(self.inner, cfg.channels, rngs) if equivariant else None
        self.head = None if equivariant else mlp_layers([pooled, *cfg.head, n_out], rngs)
        self.probe = ProbeFeatures(probe, cfg.probes, space, cfg.channels, rngs) if cfg.probes else None

    def __call__(self, xs: list):
        feats = self.probe(xs) if self.probe is not None else []
        if self.inner.io:
            xs = self.inner.from_layers(self.space.to_layers(xs, 1), 1)
        xs = fourier_features(xs, self.cfg.fourier, self.cfg.fourier_scale)
        for i, layer in enumerate(self.layers):
            if self.inner.io:
                xs = self.io[i](xs)
            xs = layer(xs)
            if i == 0:
                xs = add_probe_features(self.inner, xs, feats)
            xs = [jax.nn.relu(x) for x in xs]
            if self.cfg.norm and i < len(self.layers) - 1:
                xs = dws.channel_norm(xs)
        if self.out is not None:
            return self.space.from_layers(self.inner.to_layers(self.out(xs), 1), 1)
        return relu_mlp(self.head, dws.invariant_pool(self.inner, xs, "mean"))


@WEIGHT_MODELS.register("nfn_hnp")
@WEIGHT_MODELS.register("nfn_np")
def nfn(cfg: NFNConfig, space: WeightSpace, n_out: int, probe: Probe | None = None,
        equivariant: bool = False) -> Functional:
    check_probes(cfg, probe)
    return functional(lambda rngs: NFN(cfg, space, n_out, probe, rngs, equivariant))
