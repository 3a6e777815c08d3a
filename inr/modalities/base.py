"""What every modality provides, and the registry that finds them by name."""
from __future__ import annotations

from typing import Any, Callable, Protocol

from inr.registry import Registry
from inr.train.samplers import SampleErrors


class Modality(Protocol):
    """A kind of signal: how to load it, fit it, score it and render it."""

    name: str
    data_config: type
    in_dim: int
    extensions: tuple  # file suffixes this modality reads, lower case
    metric: tuple  # (history key, axis label) of the score plotted in curve.png
    render_options: tuple  # keyword options render() accepts (size, rate, ...)
    progressive_encodings: bool  # per-sample (coords, targets) errors exist, so SAPE can grow
    field_suffix: str  # the file one field is written to by default (.png, .wav, .ply)
    defaults: dict  # {"fit": file, "collection": file}: the built-in configs in inr/modalities/defaults/

    def load(self, path, cfg) -> Any:
        """Read and validate the input file; raise InrError on bad input."""

    def out_dim(self, signal) -> int: ...

    def size(self, signal) -> tuple:
        """What the signals of one collection must share (an image's height,
        width and channels; a clip's samples and channels)."""

    def training_data(self, signal, cfg) -> dict:
        """Arrays for the loss: at least ``coords`` and ``targets``."""

    def loss(self, apply: Callable, cfg, train_cfg) -> Callable:
        """``loss(params, data, key) -> scalar``."""

    def sample_errors(self, apply: Callable, cfg, signal) -> SampleErrors | None:
        """How well a field fits each training sample, for ``train.sampler``
        (:class:`inr.train.samplers.SampleErrors`); None where training draws
        its own points."""

    def sample_count(self, signal) -> int:
        """How many samples the signal holds (an image's pixels, a clip's
        frames, a mesh's vertices): what params_per_sample divides by."""

    def score(self, apply: Callable, cfg) -> Callable:
        """Pure ``score(params, data) -> {name: scalar}`` on training data,
        logged during training (vmappable over a stack of fields)."""

    def metadata(self, signal, cfg) -> dict:
        """What a decoder needs besides the spec (normalisation, shape, ...)."""

    def finish(self, run_dir, apply: Callable, params, signal, cfg) -> dict:
        """Write the modality's outputs (reconstruction, mesh) into ``run_dir``;
        return final metrics."""

    def figures(self, run_dir, apply: Callable, params, signal, cfg) -> list:
        """``[(file name, draw)]``: the run's pictures, drawn after its metrics
        are written; ``draw()`` writes the file into ``run_dir``."""

    def render(self, apply: Callable, params, meta: dict, out, **options) -> None:
        """Write the field to the file ``out`` (its suffix picks the format)."""

    def render_many(self, apply: Callable, params_list: list, meta: dict, out, size=None, columns: int = 0) -> None:
        """Write several fields as one picture grid (a collection, samples)."""

    def from_array(self, array, source: str, cfg) -> Any:
        """A signal from an in-memory array (one record of an IDX file); an
        InrError naming ``source`` where the modality reads no arrays."""

    # What generative evaluation needs: fields decoded into comparable items and a distance between them.
    classifiable: bool  # items are fixed-size vectors a classifier can read (for labelled collections)

    def comparable(self, field, weights, meta: dict) -> Any:
        """Flat weight vectors ``(N, P)`` -> items ``(N, ...)`` compared by :meth:`distance`."""

    def distance(self, a, b) -> Any:
        """Distances ``(len a, len b)`` between two sets of items."""

    def describe(self, items) -> dict:
        """Facts about decoded items worth reporting beside the metrics (may be empty)."""


def normalization(meta: dict):
    """The ``normalization`` entry of a field or collection description;
    files of format version 1 spell it ``normalisation``."""
    return meta["normalization"] if "normalization" in meta else meta["normalisation"]


MODALITIES: Registry = Registry("modality")
