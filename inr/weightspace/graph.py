"""Graph metanetworks, as ``flax.nnx`` modules: an MLP read as a graph whose
nodes are its neurons (biases as node features) and whose edges are its
weights (edge features).

- NG-GNN (Kofinas et al., ICLR 2024, "Graph Neural Networks for Learning
  Equivariant Representations of Neural Networks"): message passing that
  updates edges from their two neurons, then neurons from their incoming and
  outgoing edges with PNA aggregation (mean, max, min, std, each at three
  degree scalings).
- ScaleGMN (Kalogeropoulos et al., NeurIPS 2024, "Scale Equivariant Graph
  Metanetworks"), bidirectional, for the sign symmetry of odd activations
  (sine): flipping a hidden neuron's bias, incoming and outgoing weights
  leaves the field unchanged, and every function here commutes with it --
  messages are products ``W_e e_ij * W_v h_i`` (sign ``q_i q_j q_i = q_j``),
  updates are ``W x * g(x)`` with ``g`` sign-invariant by symmetrization
  (``rho(x) + rho(-x)``), aggregation is a mean, the readout pools
  symmetrized neuron states. So its predictions are invariant to sign flips
  as well as permutations.
- NG-T (Kofinas et al.'s neural-graph transformer, after Diao & Loynd's
  relational transformer, ICLR 2023): every pair of neurons carries an edge
  state (a learned "no edge" state where the MLP has no weight), attention
  over all neurons whose queries, keys and values are modulated by the pair's
  edge state, then post-LayerNorm node and edge MLPs.

The graph of these small MLPs is stored densely, layer by layer: neuron
states ``(B, d_l, C)`` for l = 0..L and edge states ``(B, d_{l-1}, d_l, C)``
for l = 1..L; an aggregation over a layer's incoming edges is a reduction
over an axis (the dense form of a segment sum). Only the input and output
neurons carry per-neuron embeddings, so permuting a hidden layer's neurons is
a graph automorphism (NG-T, whose attention sees all the neurons as one set,
tells the hidden layers apart by each layer's own node-embedding bias); probe
features (each neuron's activations at learned input points, the input
neurons' being the points themselves) join the node features.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd, log
from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from inr.learned import Functional, dense, functional, layer_norm, relu_mlp
from inr.nn import draws
from inr.schema import register_variant
from inr.weightspace.dws import channel_norm
from inr.weightspace.models import WEIGHT_MODELS, Gain, WeightModelConfig, check_probes, mlp_layers
from inr.weightspace.probes import Probe
from inr.weightspace.space import WeightSpace


@dataclass
class GraphNetConfig(WeightModelConfig):
    name: str = "ng_gnn"
    channels: int = 16
    """node and edge state width (the papers use 64-128 on a GPU; every edge carries a state, so this is
    the cost on a CPU)"""
    layers: int = 3
    """message-passing layers"""
    probes: int = 0
    """probe points whose per-neuron activations join the node features (0: weights only)"""
    head: list[int] = field(default_factory=lambda: [128, 128])
    """hidden widths of the head MLP"""
    dense_graph: ClassVar[bool] = False
    """the layers see every pair of neurons (one N x N edge state) rather than the MLP's layered edges"""


@register_variant(WeightModelConfig, "ng_gnn")
@dataclass
class NGGNNConfig(GraphNetConfig):
    name: str = "ng_gnn"


@register_variant(WeightModelConfig, "scale_gmn")
@dataclass
class ScaleGMNConfig(GraphNetConfig):
    name: str = "scale_gmn"
    sign_invariant: ClassVar[bool] = True


@register_variant(WeightModelConfig, "ng_t")
@dataclass
class NGTConfig(GraphNetConfig):
    name: str = "ng_t"
    heads: int = 4
    """attention heads (gcd(heads, channels) if heads does not divide channels)"""
    dense_graph: ClassVar[bool] = True


def graph_features(space: WeightSpace, xs: list) -> tuple[list, list]:
    """Node features ``(B, d_l, 1)`` (the biases; zero for the input neurons)
    and edge features ``(B, d_{l-1}, d_l, 1)`` (the weights) of each field."""
    layers = space.to_layers(xs, 1)
    nodes = [jnp.zeros((xs[0].shape[0], space.widths[0], 1), xs[0].dtype)] + [b for _, b in layers]
    return nodes, [w for w, _ in layers]


class GraphProbes(nnx.Module):
    """Each neuron's activations at ``n`` learned points (initialised uniformly
    in [-1, 1]^d): the points' coordinates for the input neurons, the field's
    layer outputs for the others; ``[(B, d_l, n) for l = 0..L]``."""

    def __init__(self, probe: Probe, n: int, rngs: nnx.Rngs):
        self.probe = probe
        self.coords = nnx.Param(draws.uniform(rngs.params(), (n, probe.in_dim), minval=-1.0, maxval=1.0))

    def __call__(self, xs: list) -> list:
        acts = self.probe.run(self.coords[...], xs)
        first = jnp.broadcast_to(self.coords[...].T, (xs[0].shape[0],) + self.coords.shape[::-1])
        return [first] + acts


class NodeEmbedding(nnx.Module):
    """Node and edge features -> states: one linear map per layer (``bias=False``
    keeps them odd, for the sign-equivariant network) and learned per-neuron
    embeddings added to the input and output neurons only."""

    def __init__(self, space: WeightSpace, n_node: int, channels: int, bias: bool, rngs: nnx.Rngs):
        d, L = space.widths, space.depth
        self.nodes = nnx.List([dense(n_node, channels, rngs, bias=bias or l in (0, L)) for l in range(L + 1)])
        self.edges = nnx.List([dense(1, channels, rngs, bias=bias) for _ in range(L)])
        self.io = nnx.List([nnx.Param(draws.normal(rngs.params(), (d[l], channels))) for l in (0, L)])

    def __call__(self, nodes: list, edges: list) -> tuple[list, list]:
        h = [lin(x) for lin, x in zip(self.nodes, nodes)]
        h[0], h[-1] = h[0] + self.io[0][...], h[-1] + self.io[1][...]
        return h, [lin(e) for lin, e in zip(self.edges, edges)]


def pna(m, axis: int, scalers: tuple[float, float]):
    """PNA aggregation of messages ``m`` over ``axis`` (the senders): mean, max,
    min and std, each as is and times the degree's amplification and attenuation scalers."""
    mean = jnp.mean(m, axis)
    std = jnp.sqrt(jnp.maximum(jnp.mean(m * m, axis) - mean * mean, 0.0) + 1e-5)
    agg = jnp.concatenate([mean, jnp.max(m, axis), jnp.min(m, axis), std], -1)
    return jnp.concatenate([agg, agg * scalers[0], agg * scalers[1]], -1)


def degree_scalers(space: WeightSpace) -> tuple[list, list]:
    """PNA's (amplification, attenuation) of each layer's forward aggregation
    (over the d_{l-1} senders) and backward one (over the d_{l+1}), with delta
    the mean log(degree + 1) over the graph's neurons."""
    d, L = space.widths, space.depth
    degs = [(d[l], d[l - 1]) for l in range(1, L + 1)] + [(d[l], d[l + 1]) for l in range(L)]  # (neurons, degree)
    delta = sum(n * log(k + 1) for n, k in degs) / sum(n for n, _ in degs)
    scale = lambda k: (log(k + 1) / delta, delta / log(k + 1))  # noqa: E731
    return [scale(d[l - 1]) for l in range(1, L + 1)], [scale(d[l + 1]) for l in range(L)]


class GNNLayer(nnx.Module):
    """One NG-GNN step: edges from their two neurons, then neurons from PNA
    aggregates of messages along their incoming (forward) and outgoing
    (backward) edges; residual updates, channels standardized after."""

    def __init__(self, space: WeightSpace, c: int, rngs: nnx.Rngs):
        self.fwd_scalers, self.bwd_scalers = degree_scalers(space)
        lin = lambda a, b, bias=True: dense(a, b, rngs, scale=2 ** 0.5, bias=bias)  # noqa: E731
        self.edge_e, self.edge_src, self.edge_dst, self.edge_out = lin(c, c), lin(c, c, False), lin(c, c, False), \
            lin(c, c)
        self.fwd_e, self.fwd_h, self.fwd_out = lin(c, c), lin(c, c, False), lin(c, c)
        self.bwd_e, self.bwd_h, self.bwd_out = lin(c, c), lin(c, c, False), lin(c, c)
        self.node_h, self.node_f, self.node_b, self.node_out = lin(c, c), lin(12 * c, c, False), \
            lin(12 * c, c, False), lin(c, c)

    def __call__(self, h: list, e: list) -> tuple[list, list]:
        L = len(e)
        e = [x + self.edge_out(jax.nn.relu(self.edge_e(x) + self.edge_src(h[l])[:, :, None]
                                           + self.edge_dst(h[l + 1])[:, None, :])) for l, x in enumerate(e)]
        fwd = [pna(self.fwd_out(jax.nn.relu(self.fwd_e(x) + self.fwd_h(h[l])[:, :, None])), 1, self.fwd_scalers[l])
               for l, x in enumerate(e)]
        bwd = [pna(self.bwd_out(jax.nn.relu(self.bwd_e(x) + self.bwd_h(h[l + 1])[:, None, :])), 2, self.bwd_scalers[l])
               for l, x in enumerate(e)]
        out = []
        for l, x in enumerate(h):  # the input neurons have no incoming edges, the outputs no outgoing ones
            z = self.node_h(x)
            if l > 0:
                z = z + self.node_f(fwd[l - 1])
            if l < L:
                z = z + self.node_b(bwd[l])
            out.append(x + self.node_out(jax.nn.relu(z)))
        return channel_norm(out), channel_norm(e)


def symmetrized(lin, x):
    """``relu(lin(x)) + relu(lin(-x))``: a learned sign-invariant feature map
    (one matmul: ``lin(-x) = 2 b - lin(x)``)."""
    z = lin(x)
    return jax.nn.relu(z) + jax.nn.relu(2 * lin.bias[...] - z)


class SignEquivariant(nnx.Module):
    """``f(x) = (x W) * g(x)`` with ``g(x) = phi(relu(rho(x)) + relu(rho(-x)))``
    sign-invariant (symmetrization), so ``f(-x) = -f(x)``: ScaleGMN's
    sign-equivariant map."""

    def __init__(self, c_in: int, c_out: int, rngs: nnx.Rngs):
        self.W = dense(c_in, c_out, rngs, bias=False)
        self.rho = dense(c_in, c_out, rngs, scale=2 ** 0.5)
        self.phi = dense(c_out, c_out, rngs)

    def __call__(self, x):
        return self.W(x) * self.phi(symmetrized(self.rho, x))


class SignGMNLayer(nnx.Module):
    """One bidirectional ScaleGMN step for the sign symmetry: edges
    ``e + (e W) * phi(inv(h_src), inv(h_dst))``, messages ``f(W_e e * W_v h_sender)``
    averaged over the senders, hidden neurons updated by a sign-equivariant
    map of (state, forward, backward), input and output neurons (never
    flipped) by an MLP; channels standardized after (an odd map)."""

    def __init__(self, space: WeightSpace, c: int, rngs: nnx.Rngs):
        self.depth = space.depth
        self.edge_w = dense(c, c, rngs, bias=False)
        self.edge_inv = dense(c, c, rngs, scale=2 ** 0.5)
        self.edge_src, self.edge_dst = dense(c, c, rngs, scale=2 ** 0.5), dense(c, c, rngs, bias=False, scale=2 ** 0.5)
        self.edge_phi = dense(c, c, rngs)
        self.fwd_e, self.fwd_h = dense(c, c, rngs, bias=False), dense(c, c, rngs, bias=False)
        self.bwd_e, self.bwd_h = dense(c, c, rngs, bias=False), dense(c, c, rngs, bias=False)
        self.fwd_msg, self.bwd_msg = SignEquivariant(c, c, rngs), SignEquivariant(c, c, rngs)
        self.hidden_update = SignEquivariant(3 * c, c, rngs)
        self.io_update = mlp_layers([3 * c, c, c], rngs)

    def __call__(self, h: list, e: list) -> tuple[list, list]:
        L = self.depth
        inv = [symmetrized(self.edge_inv, x) for x in h]
        src, dst = [self.edge_src(x) for x in inv], [self.edge_dst(x) for x in inv]  # phi's first layer, per neuron
        e = [x + self.edge_w(x) * self.edge_phi(jax.nn.relu(src[l][:, :, None] + dst[l + 1][:, None, :]))
             for l, x in enumerate(e)]
        fwd = [jnp.mean(self.fwd_msg(self.fwd_e(x) * self.fwd_h(h[l])[:, :, None]), 1) for l, x in enumerate(e)]
        bwd = [jnp.mean(self.bwd_msg(self.bwd_e(x) * self.bwd_h(h[l + 1])[:, None, :]), 2) for l, x in enumerate(e)]
        out = []
        for l, x in enumerate(h):
            f = fwd[l - 1] if l > 0 else jnp.zeros_like(x)
            b = bwd[l] if l < L else jnp.zeros_like(x)
            z = jnp.concatenate([x, f, b], -1)
            out.append(x + (relu_mlp(self.io_update, z) if l in (0, L) else self.hidden_update(z)))
        return channel_norm(out), channel_norm(e)


class DenseGraph(nnx.Module):
    """The layered graph <-> one graph of all N = sum(d_l) neurons: node states
    ``(B, N, C)`` and an edge state for every ordered pair ``(B, N, N, C)``,
    the MLP's weights in their blocks (row: the sending neuron) and a learned
    "no edge" state elsewhere (the same for every pair, so permutations of
    hidden neurons still just permute rows and columns)."""

    def __init__(self, space: WeightSpace, c: int, rngs: nnx.Rngs):
        d = space.widths
        self.offsets = tuple(sum(d[:l]) for l in range(len(d) + 1))  # layer l's neurons: offsets[l]:offsets[l+1]
        self.absent = nnx.Param(draws.normal(rngs.params(), (c,)))

    def pack(self, h: list, e: list) -> tuple:
        o, x = self.offsets, jnp.concatenate(h, 1)
        full = jnp.broadcast_to(self.absent[...], (x.shape[0], o[-1], o[-1], x.shape[-1]))
        for l, w in enumerate(e):
            full = full.at[:, o[l]:o[l + 1], o[l + 1]:o[l + 2]].set(w)
        return x, full

    def unpack(self, x, full) -> tuple[list, list]:
        o = self.offsets
        h = [x[:, o[l]:o[l + 1]] for l in range(len(o) - 1)]
        return h, [full[:, o[l]:o[l + 1], o[l + 1]:o[l + 2]] for l in range(len(o) - 2)]


class RTLayer(nnx.Module):
    """One NG-T layer on the dense graph (:class:`DenseGraph`): relational
    attention ``a_ij = softmax_j((q_i + Q e_ij) . (k_j + K e_ij))``, values
    ``v_j * G e_ij + V e_ij``; then a node MLP, each residual and post-LayerNorm;
    then every edge from ``[e_ij, e_ji]`` and its two neurons, and an edge MLP."""

    def __init__(self, c: int, heads: int, rngs: nnx.Rngs):
        self.heads = gcd(heads, c)
        self.qkv = dense(c, 3 * c, rngs, bias=False)
        self.qkv_edge = dense(c, 4 * c, rngs, bias=False)
        self.attn_out = dense(c, c, rngs)
        self.node_fc1, self.node_fc2 = dense(c, 2 * c, rngs, bias=False), dense(2 * c, c, rngs)
        self.edge_pair, self.edge_src, self.edge_dst = dense(2 * c, 2 * c, rngs), \
            dense(c, 2 * c, rngs, bias=False), dense(c, 2 * c, rngs, bias=False)
        self.edge_out = dense(2 * c, c, rngs)
        self.edge_fc1, self.edge_fc2 = dense(c, 2 * c, rngs, bias=False), dense(2 * c, c, rngs)
        self.norms = nnx.List([layer_norm(c, rngs, 1e-5) for _ in range(4)])

    def __call__(self, x, e):
        b, n, c = x.shape
        h = self.heads
        q, k, v = jnp.split(self.qkv(x).reshape(b, n, h, 3 * c // h), 3, -1)
        eq, ek, ev, eg = jnp.split(self.qkv_edge(e).reshape(b, n, n, h, 4 * c // h), 4, -1)
        qs, ks, vs = q[:, :, None] + eq, k[:, None, :] + ek, v[:, None, :] * eg + ev
        attn = jax.nn.softmax(jnp.einsum("bijhd,bijhd->bhij", qs, ks) * (h / c) ** 0.5, -1)
        out = jnp.einsum("bhij,bijhd->bihd", attn, vs).reshape(b, n, c)
        x = self.norms[0](x + self.attn_out(out))
        x = self.norms[1](x + self.node_fc2(jax.nn.gelu(self.node_fc1(x))))
        pair = self.edge_pair(jnp.concatenate([e, jnp.swapaxes(e, 1, 2)], -1))
        m = pair + self.edge_src(x)[:, :, None] + self.edge_dst(x)[:, None, :]
        e = self.norms[2](e + self.edge_out(jax.nn.gelu(m)))
        return x, self.norms[3](e + self.edge_fc2(jax.nn.gelu(self.edge_fc1(e))))


class GraphNet(nnx.Module):
    """Embedding -> message-passing layers -> readout: per hidden layer a pooled
    summary of its neurons (NG-GNN: mean and max; ScaleGMN: the mean of their
    symmetrized states), beside the input and output neurons' states in
    order, -> an MLP head. With ``equivariant``, each edge's and neuron's final
    state is read out as a change of its weight or bias instead (linear maps
    without bias for ScaleGMN, so the change flips with the neuron)."""

    LAYERS: ClassVar[dict] = {"ng_gnn": lambda space, cfg, rngs: GNNLayer(space, cfg.channels, rngs),
                              "scale_gmn": lambda space, cfg, rngs: SignGMNLayer(space, cfg.channels, rngs),
                              "ng_t": lambda space, cfg, rngs: RTLayer(cfg.channels, cfg.heads, rngs)}

    def __init__(self, cfg: GraphNetConfig, space: WeightSpace, n_out: int, probe: Probe | None,
                 rngs: nnx.Rngs, equivariant: bool = False):
        c, d, L = cfg.channels, space.widths, space.depth
        self.space, self.sign = space, cfg.sign_invariant
        self.probes = GraphProbes(probe, cfg.probes, rngs) if cfg.probes else None
        self.embed = NodeEmbedding(space, 1 + cfg.probes, c, not self.sign, rngs)
        self.dense = DenseGraph(space, c, rngs) if cfg.dense_graph else None
        self.layers = nnx.List([self.LAYERS[cfg.name](space, cfg, rngs) for _ in range(cfg.layers)])
        self.readout = dense(c, c, rngs, scale=2 ** 0.5) if self.sign else None
        pooled = (L - 1) * c * (1 if self.sign else 2) + (d[0] + d[L]) * c
        self.head = None if equivariant else mlp_layers([pooled, *cfg.head, n_out], rngs)
        self.out = nnx.List([dense(c, 1, rngs, bias=not self.sign) for _ in range(2)] if equivariant else [])
        self.gain = Gain() if equivariant else None

    def states(self, xs: list) -> tuple[list, list]:
        """Neuron and edge states after the last layer."""
        nodes, edges = graph_features(self.space, xs)
        if self.probes is not None:
            nodes = [jnp.concatenate([x, p], -1) for x, p in zip(nodes, self.probes(xs))]
        h, e = self.embed(nodes, edges)
        if self.dense is not None:
            h, e = self.dense.pack(h, e)
        for layer in self.layers:  # a classifier's last edge update is unused: jit drops it
            h, e = layer(h, e)
        return self.dense.unpack(h, e) if self.dense is not None else (h, e)

    def __call__(self, xs: list):
        h, e = self.states(xs)
        if self.gain is not None:
            edge_out, node_out = self.out
            return self.gain(self.space.from_layers([(edge_out(w), node_out(b)) for w, b in zip(e, h[1:])], 1))
        n = h[0].shape[0]
        if self.sign:
            pooled = [jnp.mean(symmetrized(self.readout, x), 1) for x in h[1:-1]]
        else:
            pooled = [p for x in h[1:-1] for p in (jnp.mean(x, 1), jnp.max(x, 1))]
        feats = jnp.concatenate(pooled + [h[0].reshape(n, -1), h[-1].reshape(n, -1)], -1)
        return relu_mlp(self.head, feats)


@WEIGHT_MODELS.register("ng_gnn")
@WEIGHT_MODELS.register("ng_t")
@WEIGHT_MODELS.register("scale_gmn")
def graph_net(cfg: GraphNetConfig, space: WeightSpace, n_out: int, probe: Probe | None = None,
              equivariant: bool = False) -> Functional:
    check_probes(cfg, probe)
    return functional(lambda rngs: GraphNet(cfg, space, n_out, probe, rngs, equivariant))
