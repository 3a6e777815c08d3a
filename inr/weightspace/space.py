"""The weight space of an MLP as a list of tensors with named hidden axes.

An MLP with widths ``d_0 .. d_L`` has weights ``W_i`` (d_{i-1} x d_i) and
biases ``b_i`` (d_i), i = 1..L. Hidden layers 1..L-1 can be permuted; the
input and output dimensions cannot, so they are folded into the channel axis.
A tensor is stored channels last as ``(batch, *hidden sizes, fixed * C)``:
its hidden axes are the hidden layers it touches, in increasing order.

With ``io=True`` the input and output neurons count as permutable too (the
"NP" space of Zhou et al.'s neural functionals): every layer is an axis and
nothing is folded. The same equivariant layers then act on that larger group.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from inr.errors import InrError


@dataclass(frozen=True)
class Tensor:
    name: str  # "W1", "b1", ...
    hidden: tuple  # hidden-layer indices of its axes, increasing
    fixed: int  # size of the folded input/output axes (1 if none)


@dataclass(frozen=True)
class WeightSpace:
    widths: tuple  # d_0 .. d_L
    io: bool = False  # the input and output neurons are permutable too (NFN-NP)

    def __post_init__(self):
        if len(self.widths) < 3:
            raise ValueError("a weight space needs at least one hidden layer (widths d_0, d_1, d_2 at least)")

    @classmethod
    def from_weight_shapes(cls, shapes) -> "WeightSpace":
        """The space of an MLP whose weights have shapes ``(d_{i-1}, d_i)``, i = 1..L."""
        shapes = [tuple(s) for s in shapes]
        return cls((shapes[0][0],) + tuple(s[1] for s in shapes))

    @classmethod
    def of_layout(cls, layout: list[dict], what: str) -> "WeightSpace":
        """The space of fields whose canonical layout (``[{"name", "shape",
        "offset"}]``) is a plain MLP with a hidden layer, or a one-line error
        saying that ``what`` needs one."""
        entries = sorted(layout, key=lambda e: e["offset"])
        names = [e["name"] for e in entries]
        expected = [n for i in range(len(names) // 2) for n in (f"mlp.{i}.W", f"mlp.{i}.b")]
        if names != expected or len(expected) < 4:
            raise InrError(f"{what} needs fields that are plain MLPs with a hidden layer "
                           f"(parameters mlp.0.W, mlp.0.b, ...); this collection has {', '.join(names)}")
        return cls.from_weight_shapes([e["shape"] for e in entries[::2]])

    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    def is_hidden(self, layer: int) -> bool:
        """Whether ``layer``'s neurons are a permutable axis."""
        return 1 <= layer <= self.depth - 1 or (self.io and layer in (0, self.depth))

    @property
    def tensors(self) -> list[Tensor]:
        d, L = self.widths, self.depth
        out = []
        folded = lambda a: 1 if self.is_hidden(a) else d[a]  # noqa: E731
        for i in range(1, L + 1):
            out.append(Tensor(f"W{i}", tuple(a for a in (i - 1, i) if self.is_hidden(a)),
                              (folded(0) if i == 1 else 1) * (folded(L) if i == L else 1)))
        for i in range(1, L + 1):
            out.append(Tensor(f"b{i}", (i,) if self.is_hidden(i) else (), folded(L) if i == L else 1))
        return out

    def shape(self, t: Tensor, channels: int) -> tuple:
        return tuple(self.widths[a] for a in t.hidden) + (t.fixed * channels,)

    def from_layers(self, layers, channels: int = 1) -> list:
        """``[(W, b), ...]`` with W ``(B, d_{i-1}, d_i[, C])``, b ``(B, d_i[, C])``
        -> tensors in :attr:`tensors` order (Ws then bs), fixed axes folded."""
        L = self.depth
        ws, bs = [], []
        for i, (w, b) in enumerate(layers, start=1):
            if w.ndim == 3:
                w, b = w[..., None], b[..., None]
            n = w.shape[0]
            if i == 1 and not self.is_hidden(0):
                w = jnp.swapaxes(w, 1, 2).reshape(n, w.shape[2], -1)  # (B, d1, d0*C)
            elif i == L and not self.is_hidden(L):
                w = w.reshape(n, w.shape[1], -1)  # (B, d_{L-1}, dL*C)
            ws.append(w)
            bs.append(b.reshape(n, -1) if i == L and not self.is_hidden(L) else b)
        return ws + bs

    def to_layers(self, tensors, channels: int = 1) -> list:
        """Inverse of :meth:`from_layers` (channel axis kept)."""
        d, L = self.widths, self.depth
        ws, bs = tensors[:L], tensors[L:]
        layers = []
        for i, (w, b) in enumerate(zip(ws, bs), start=1):
            n = w.shape[0]
            if i == 1 and not self.is_hidden(0):
                w = jnp.swapaxes(w.reshape(n, d[1], d[0], channels), 1, 2)
            elif i == L and not self.is_hidden(L):
                w = w.reshape(n, d[L - 1], d[L], channels)
            if i == L and not self.is_hidden(L):
                b = b.reshape(n, d[L], channels)
            layers.append((w, b))
        return layers

    def from_flat(self, flat, channels: int = 1) -> list:
        """``(B, P)`` flat weights in the canonical plain-MLP layout (``W_1, b_1,
        W_2, ...``, each row-major) -> the tensors; the one route from a
        collection's or a denoiser's flat vectors into weight space."""
        d, n = self.widths, flat.shape[0]
        layers, offset = [], 0
        for a, b in zip(d[:-1], d[1:]):
            w = flat[:, offset:offset + a * b].reshape(n, a, b)
            layers.append((w, flat[:, offset + a * b:offset + a * b + b]))
            offset += a * b + b
        return self.from_layers(layers, channels)

    def to_flat(self, xs) -> jnp.ndarray:
        """The inverse of :meth:`from_flat` (one channel)."""
        return jnp.concatenate([a.reshape(a.shape[0], -1) for w, b in self.to_layers(xs, 1) for a in (w, b)], -1)
