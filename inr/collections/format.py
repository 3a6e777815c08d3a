"""The collection format, readable without this library or any code execution.

``weights.safetensors``: ``weights`` (N, P) float32, one flat parameter vector
per field in the canonical layout (``collection.json["layout"]``: name, shape
and offset of each parameter, MLP ``(W, b)`` in depth order), plus the field's
fixed buffers (``buffers.encoding.*``). ``collection.json``: format version,
the field spec, coordinate convention, normalisation and one record per field
(source, label, seed, metrics).

While fitting, each chunk of fields is written as its own part
(``parts/part-NNNNN.safetensors``, records in its metadata); the merge into the
final files happens once every part is present, so an interrupted or
multi-process run never leaves a field missing or twice.
"""
from __future__ import annotations

import dataclasses
import functools
import shutil
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from inr.atomic import write_json
from inr.errors import InrError
from inr.fields.io import COORDINATES, field_from_spec, field_spec, params_template
from inr.io import open_tree, read_format_json, save_tree
from inr.fields.layout import layout
from inr.fields.model import Field

FORMAT = "inr.collection"
FORMAT_VERSION = 3  # the field format's: 3: typed activation section; 2: typed encoding section, normalization
WEIGHTS = "weights.safetensors"
MANIFEST = "collection.json"
PARTS = "parts"


def part_path(root: Path, chunk: int) -> Path:
    return Path(root) / PARTS / f"part-{chunk:05d}.safetensors"


def write_part(root: Path, chunk: int, flat: np.ndarray, records: list[dict], history: list) -> None:
    save_tree(part_path(root, chunk), {"weights": np.asarray(flat, np.float32)},
              {"fields": records, "history": history})


def read_part(path: Path) -> tuple[np.ndarray, list[dict], list]:
    what = "collection part (delete it and run again with --resume)"
    with open_tree(path, what) as f:
        flat = f.array("weights")
        meta = f.metadata()
    records, history = meta.get("fields"), meta.get("history")
    if not isinstance(records, list) or not isinstance(history, list):
        raise InrError(f"{path}: corrupt {what}: no field records or history in its metadata")
    if len(records) != flat.shape[0]:
        raise InrError(f"{path}: {flat.shape[0]} weight rows but {len(records)} field records")
    return flat, records, history


def merge(root: Path, n_chunks: int, field: Field, template, header: dict) -> None:
    """Concatenate the parts in order into the final weights and manifest, then drop the parts."""
    root = Path(root)
    flats, records, histories = [], [], []
    for c in range(n_chunks):
        flat, recs, history = read_part(part_path(root, c))
        flats.append(flat)
        records.extend(recs)
        histories.append({"chunk": c, "history": history})
    write_collection(root, field, np.concatenate(flats, axis=0), template, {**header, "chunks": histories}, records)
    shutil.rmtree(root / PARTS, ignore_errors=True)


def write_collection(root: Path, field: Field, weights: np.ndarray, template, header: dict,
                     records: list[dict]) -> None:
    """Write ``weights`` (N, P) of ``field`` as a collection: the weights
    file first, then the manifest (what marks the collection complete)."""
    root = Path(root)
    save_tree(root / WEIGHTS, {"weights": np.asarray(weights, np.float32),
                               "buffers.encoding": dict(field.encoding.buffers)})
    write_json(root / MANIFEST, {
        "format": FORMAT,
        **field_spec(field),
        "format_version": FORMAT_VERSION,
        "coordinates": COORDINATES,
        "count": int(weights.shape[0]),
        "param_count": int(weights.shape[1]),
        "layout": layout(template),
        **header,
        "fields": records,
    })


# manifest entries about how a collection was fitted, not about its signals
FIT_KEYS = ("source", "init", "fits_per_signal", "chunk_size", "chunks")


def signal_meta(meta: dict) -> dict:
    """The manifest entries that describe the signals (modality, normalisation,
    signal, and whatever else the modality's decoder reads), without what
    :func:`write_collection` writes itself or how the fields were fitted: the
    header for a new collection of fields of the same kind."""
    own = {"format", "format_version", "model", "in_dim", "out_dim", "coordinates", "count", "param_count",
           "layout", "fields", *FIT_KEYS}
    return {k: v for k, v in meta.items() if k not in own}


@dataclass(frozen=True)
class Collection:
    """A loaded collection: ``weights`` (N, P) float32, the field to decode
    them with, and the manifest (``meta``; per-field records in ``fields``)."""

    weights: np.ndarray
    field: Field
    meta: dict

    @property
    def fields(self) -> list[dict]:
        return self.meta["fields"]

    def __len__(self) -> int:
        return self.weights.shape[0]

    def params(self, i: int) -> dict:
        """Field ``i``'s params pytree."""
        return self._unravel(jnp.asarray(self.weights[i]))

    def stacked_params(self, indices) -> dict:
        """Params of the chosen fields stacked on a leading axis (for ``vmap``)."""
        return jax.vmap(self._unravel)(jnp.asarray(self.weights[np.asarray(indices)]))

    @functools.cached_property
    def _unravel(self):
        return ravel_pytree(params_template(self.field))[1]

    @property
    def labels(self) -> np.ndarray | None:
        labels = [r.get("label") for r in self.fields]
        return None if any(v is None for v in labels) else np.asarray(labels)


def read_manifest(root) -> dict:
    unfinished = " (unfinished: continue it with inr fit-many --resume)" if (Path(root) / PARTS).is_dir() else ""
    return read_format_json(Path(root) / MANIFEST, FORMAT, FORMAT_VERSION, "collection manifest",
                            f"; is {root} a collection?{unfinished}")


def load_collection(root) -> Collection:
    """Read a collection: arrays plus spec, no code executed."""
    root = Path(root)
    meta = read_manifest(root)
    field = field_from_spec(meta, str(root / MANIFEST))
    path = root / WEIGHTS
    with open_tree(path, "collection weight file") as f:
        weights = f.array("weights")
        buffers = f.tree("buffers.encoding", {k: np.asarray(v) for k, v in field.encoding.buffers.items()})
    expected = (meta.get("count"), field.param_count())
    if weights.ndim != 2 or tuple(weights.shape) != expected or len(meta.get("fields", [])) != weights.shape[0]:
        raise InrError(f"{path}: weights of shape {tuple(weights.shape)} disagree with {MANIFEST} "
                       f"({expected[0]} fields of {expected[1]} parameters, {len(meta.get('fields', []))} records)")
    field = dataclasses.replace(field, encoding=dataclasses.replace(field.encoding, buffers=buffers))
    return Collection(weights, field, meta)
