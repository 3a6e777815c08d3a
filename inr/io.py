"""Pytrees on disk: one safetensors file (arrays) plus JSON (descriptions).

Every weight file of this library goes through here, so all of them share one
naming of arrays (``<prefix>.<path of the leaf>``, e.g. ``params.mlp.0.W``),
one atomic write and one set of one-line errors naming the file. Metadata
values are stored as JSON strings, so any safetensors + JSON reader gets them
back; files are read lazily with ``safe_open``, never by parsing headers.
"""
from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from inr.atomic import atomic_path, write_json
from inr.errors import InrError


def _key_name(k) -> str:
    for attr in ("key", "idx", "name"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def tree_entries(tree, prefix: str = "") -> list[tuple[str, object]]:
    """``[(name, leaf)]`` in flatten order, names like ``prefix.mlp.0.W``
    (a tree that is a single leaf is named ``prefix`` itself)."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    out = []
    for path, leaf in flat:
        name = ".".join([prefix] * bool(prefix) + [_key_name(k) for k in path])
        out.append((name, leaf))
    return out


def save_tree(path, trees: dict, metadata: dict | None = None) -> None:
    """Write ``{prefix: pytree}`` as one safetensors file, atomically;
    ``metadata`` values (strings or anything JSON can hold) go in its header."""
    arrays = {}
    for prefix, tree in trees.items():
        for name, leaf in tree_entries(tree, prefix):
            arrays[name] = np.asarray(leaf, order="C")  # safetensors writes C order; keeps 0-d scalars 0-d
    meta = {k: json.dumps(v) for k, v in (metadata or {}).items()}
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp), metadata=meta)


def _decode(value: str):
    try:
        return json.loads(value)
    except json.JSONDecodeError:  # a plain string some other writer put there
        return value


class TreeFile:
    """An open safetensors file; use as a context manager (``open_tree``)."""

    def __init__(self, path, what: str):
        self.path, self.what = Path(path), what

    def __enter__(self):
        try:
            self._file = safe_open(str(self.path), framework="numpy").__enter__()
        except FileNotFoundError:
            raise InrError(f"{self.path}: not found") from None
        except (SafetensorError, OSError) as err:
            raise InrError(f"{self.path}: corrupt {self.what} ({err})") from None
        self._names = set(self._file.keys())
        return self

    def __exit__(self, *exc):
        self._file.__exit__(*exc)

    def names(self) -> set[str]:
        return set(self._names)

    def metadata(self) -> dict:
        """The header's metadata, each value decoded from JSON where it is JSON."""
        return {k: _decode(v) for k, v in (self._file.metadata() or {}).items()}

    def array(self, name: str, shape=None) -> np.ndarray:
        """The array ``name``, checked against ``shape`` when given."""
        if name not in self._names:
            raise InrError(f"{self.path}: incompatible {self.what}: no array {name}")
        try:
            got = self._file.get_tensor(name)
        except (SafetensorError, OSError) as err:
            raise InrError(f"{self.path}: corrupt {self.what} ({err})") from None
        if shape is not None and tuple(got.shape) != tuple(shape):
            raise InrError(f"{self.path}: incompatible {self.what}: array {name} has shape "
                           f"{tuple(got.shape)}, expected {tuple(shape)}")
        return got

    def tree(self, prefix: str, template, renamed=None):
        """The arrays under ``prefix`` in ``template``'s structure, matched by
        name and shape; Python-scalar leaves come back as Python scalars.
        ``renamed(stored name) -> today's name`` reads files of an older
        naming (e.g. :func:`inr.learned.v1_name`)."""
        entries = tree_entries(template, prefix)
        stored = {renamed(n): n for n in self._names} if renamed else {}
        leaves = []
        for name, want in entries:
            got = self.array(stored.get(name, name), want.shape if hasattr(want, "shape") else np.shape(want))
            leaves.append(type(want)(got) if isinstance(want, (bool, int, float)) else got)
        return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(template), leaves)


def open_tree(path, what: str = "weight file") -> TreeFile:
    """``with open_tree(p) as f: f.tree("params", template); f.metadata()``;
    ``what`` names the file's kind in errors."""
    return TreeFile(path, what)


def load_tree(path, prefix: str, template, what: str = "weight file"):
    """One pytree from a file written by :func:`save_tree`."""
    with open_tree(path, what) as f:
        return f.tree(prefix, template)


def read_metadata(path, what: str = "weight file") -> dict:
    with open_tree(path, what) as f:
        return f.metadata()


def read_format_json(path: Path, fmt: str, version: int, what: str, missing: str) -> dict:
    """A JSON description of format ``fmt`` no newer than ``version``, or a
    one-line :class:`InrError` (``missing`` says what to do when it is absent)."""
    path = Path(path)
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise InrError(f"{path}: not found{missing}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InrError(f"{path}: corrupt {what} (not valid JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise InrError(f"{path}: not an inr {what}")
    if meta.get("format_version", 0) > version:
        raise InrError(f"{path}: format version {meta['format_version']} is newer than this inr reads")
    return meta


def write_format_json(path, fmt: str, version: int, body: dict) -> None:
    """The JSON description ``body`` headed by its format and version, atomically."""
    write_json(path, {"format": fmt, "format_version": version, **body})
