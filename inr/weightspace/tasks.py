"""What a weight-space model learns, chosen by ``task``:

- ``classify``: each field's label, from an invariant head (cross-entropy,
  accuracy).
- ``edit``: DWSNets' and NFN's INR editing benchmark -- new weights whose
  field shows the digit dilated (grey dilation with a square kernel, as
  NFN's code applies ``cv2.dilate`` with ``np.ones((3, 3))`` to the original
  image). An equivariant head predicts a change of every weight, added to
  the input weights; the loss is the mean squared error between the edited
  field's rendering on the signal's grid and the dilated image, pixels in
  [0, 1] (the papers' convention).

A task gives the per-field targets, the head the model needs, the loss and
the score of predictions, so one training routine serves both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from inr.collections.sources import list_items
from inr.config import read_yaml
from inr.errors import InrError
from inr.fields.layout import from_mlp_layers
from inr.grid import grid
from inr.modalities.base import MODALITIES, normalization
from inr.registry import Registry
from inr.schema import from_dict
from inr.modalities.image_io import picture_grid, write_image
from inr.plots import confusion_png, drawn
from inr.weightspace.data import WeightData, batched, standardize, unstandardize

EDIT_EXAMPLES = 8
"""fields shown in edit.png"""


@dataclass(frozen=True)
class Task:
    metric: str
    """what predictions are scored by (metrics ``{split}_{metric}``)"""
    better: str
    """max | min: which way the metric improves"""
    n_out: int
    """numbers the model predicts per field (0: a change of every weight, from an equivariant head)"""
    targets: np.ndarray | None
    """one per field: labels (N,) or pictures (N, H * W * C); None for a collection without labels"""
    loss: Callable
    """``(model output, standardized tensors, targets) -> scalar``"""
    predict: Callable
    """``(model output, standardized tensors) -> predictions``"""
    score: Callable
    """``(predictions, targets) -> metric`` (numpy)"""
    report: Callable
    """``(run dir, model name, split name, its field indices, their predictions,
    metrics)``: adds to the metrics and writes the task's pictures for that split"""


TASKS: Registry = Registry("weight-space task")
"""name -> ``(cfg, data, stats) -> Task``"""


@TASKS.register("classify")
def classify(cfg, data: WeightData, stats) -> Task:
    labels = None if data.labels is None else np.asarray(data.labels)
    n_classes = 0 if labels is None else int(labels.max()) + 1

    def report(work, name, part, idx, pred, metrics):
        """Per-class accuracy and the confusion matrix (metrics.json, confusion.png)."""
        conf = np.zeros((n_classes, n_classes), np.int64)
        np.add.at(conf, (labels[idx], pred), 1)
        metrics["per_class_accuracy"] = [float(row[i] / max(row.sum(), 1)) for i, row in enumerate(conf)]
        metrics["confusion_matrix"] = conf.tolist()
        title = f"{name}: {part} accuracy {np.mean(pred == labels[idx]):.3f}"
        drawn(work / "confusion.png", lambda: confusion_png(conf.tolist(), work / "confusion.png", title))

    return Task(
        metric="accuracy", better="max", n_out=n_classes, targets=labels,
        loss=lambda logits, xs, y: jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y)),
        predict=lambda logits, xs: jnp.argmax(logits, -1),
        score=lambda pred, y: float(np.mean(pred == y)), report=report)


def dilate(pixels: np.ndarray, size: int) -> np.ndarray:
    """Grey dilation of an ``(H, W, C)`` picture by a ``size`` x ``size`` square
    (the maximum over each pixel's window, per channel)."""
    from scipy import ndimage

    return ndimage.grey_dilation(pixels, size=(size, size, 1), mode="nearest")


def source_pictures(data: WeightData) -> np.ndarray:
    """The pictures the collection's fields were fitted to, ``(N, H, W, C)`` in
    [0, 1], read again from the source named in its ``config.yaml``."""
    from inr.modalities.image import ImageDataConfig

    where = f"{data.root}/config.yaml"
    if not (data.root / "config.yaml").is_file():
        raise InrError(f"{where}: not found; the edit task reads the pictures the collection was fitted from")
    saved = read_yaml(data.root / "config.yaml")
    data_cfg = from_dict(ImageDataConfig, saved.get("data") or {}, where)
    items = {item.source: item for item in list_items(saved.get("input", ""), MODALITIES.get("image"), data_cfg)}
    missing = [s for s in data.sources if s not in items]
    if missing:
        raise InrError(f"{saved.get('input')}: has no signal {missing[0]} (of collection {data.root})")
    return np.stack([items[s].load().pixels for s in data.sources])


def render(data: WeightData, stats, xs):
    """The fields of standardized tensors ``xs`` on their signal's grid, as
    pictures in [0, 1] units, flattened: ``(B, H * W * C)``."""
    space, field, meta = data.space, data.field, data.meta
    norm = normalization(meta)
    coords = jnp.asarray(grid(tuple(meta["signal"]["shape"])).reshape(-1, field.in_dim))
    params = from_mlp_layers([(w[..., 0], b[..., 0]) for w, b in space.to_layers(unstandardize(xs, stats), 1)])
    out = jax.vmap(field.apply, in_axes=(0, None))(params, coords)
    return ((out - norm["offset"]) / norm["scale"]).reshape(out.shape[0], -1)


@TASKS.register("edit")
def edit(cfg, data: WeightData, stats) -> Task:
    if data.meta.get("modality") != "image":
        raise InrError(f"{data.root}: --task edit needs a collection of images; this one holds "
                       f"{data.meta.get('modality')}")
    if cfg.input_augment:
        raise InrError("input_augment moves the picture, so the dilated target would no longer match: "
                       "not with --task edit")
    if cfg.edit_kernel < 1:
        raise InrError(f"edit_kernel must be >= 1 (got {cfg.edit_kernel})")
    pictures = source_pictures(data)
    targets = np.stack([dilate(p, cfg.edit_kernel) for p in pictures]).reshape(len(pictures), -1).astype(np.float32)

    def edited(delta, xs):
        return render(data, stats, [x + d for x, d in zip(xs, delta)])

    def report(work, name, part, idx, pred, metrics):
        """The unedited fields' error against the same targets (where editing
        starts from), and edit.png: the first fields as fitted, edited, and
        the dilated targets, one row each."""
        xs = standardize([x[idx] for x in data.tensors], stats)
        before = batched(jax.jit(lambda _, x: render(data, stats, x)), None, xs)
        metrics[f"{part}_mse_unedited"] = float(np.mean(np.square(before - targets[idx])))
        n, shape = min(EDIT_EXAMPLES, len(idx)), tuple(data.meta["signal"]["shape"]) + (-1,)
        tiles = [np.clip(row[i].reshape(shape), 0.0, 1.0) for row in (before, pred, targets[idx]) for i in range(n)]
        write_image(work / "edit.png", picture_grid(tiles, n))

    return Task(
        metric="mse", better="min", n_out=0, targets=targets,
        loss=lambda delta, xs, y: jnp.mean(jnp.square(edited(delta, xs) - y)),
        predict=edited,
        score=lambda pred, y: float(np.mean(np.square(pred - y))), report=report)

