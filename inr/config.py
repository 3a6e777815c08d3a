"""Run configuration: typed dataclasses filled from YAML files and ``--set``.

Precedence: dataclass defaults < the modality's built-in default (a YAML file
the modality declares, see ``inr.runs.run_config``) < each ``--config`` file in
order < ``--set key=value`` overrides. Unknown keys and ill-typed values are errors naming
where they came from. The ``data`` section's schema belongs to the modality.

Every kind of run (:data:`RUN_KINDS`: ``fit`` for fit and compare, ``fit-many``
for fit-many and meta-init, ``weights``, ``diffusion``) reads the same file
shape with the same loader. A top-level key that names a kind holds a section
for runs of that kind only: merged over the rest of its file for that kind,
dropped for the others (as a variant-named subsection applies only to its
variant, see :mod:`inr.schema`). That is how one file, ``configs/smoke.yaml``,
shrinks a run of any verb.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from inr.errors import InrError
from inr.schema import from_dict, to_dict
from inr.fields.spec import ModelConfig
from inr.train.config import TrainConfig


@dataclass
class RunConfig:
    modality: str = "image"
    input: str = ""
    """the signal file this run fits"""
    seed: int = 0
    """seed of weight initialisation and minibatch sampling"""
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: Any = None
    """modality-specific data settings (see the modality's DataConfig)"""

    defaults = "fit"  # which of the modality's built-in configs a run of this kind starts from
    kind = "fit"  # its sections in a config file (see RUN_KINDS)


RUN_KINDS = ("fit", "fit-many", "weights", "diffusion")
"""the kinds of run; each run config class names its own as ``kind``"""


def for_kind(raw: dict, kind: str) -> dict:
    """One layer of config for a run of ``kind``: its ``kind`` section merged
    over the rest, the other kinds' sections dropped."""
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown kind of run {kind!r}")
    for name in RUN_KINDS:
        if not isinstance(raw.get(name, {}), dict):
            raise InrError(f"config section {name!r} (for {name} runs only) must be a mapping, got {raw[name]!r}")
    return deep_merge({k: v for k, v in raw.items() if k not in RUN_KINDS}, raw.get(kind) or {})


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` merged into ``base`` key by key; a typed section (a mapping
    with a ``name``) that names another variant replaces the one below it
    rather than mixing the two variants' keys (its subsections under a
    variant's name, the only mappings a typed section holds, stay: each
    applies only when its variant is chosen). A bare name beside a mapping
    reads as ``{name: ...}``."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        below = out.get(k)
        # a bare name beside a mapping is a typed section's short form (``activation: sine``)
        if isinstance(v, str) and isinstance(below, dict) and "name" in below:
            v = {"name": v}
        if isinstance(below, str) and isinstance(v, dict):
            below = {"name": below}
        if isinstance(v, dict) and isinstance(below, dict) and v.get("name", below.get("name")) != below.get("name"):
            out[k] = {**{kk: vv for kk, vv in below.items() if isinstance(vv, dict)}, **copy.deepcopy(v)}
        elif isinstance(v, dict) and isinstance(below, dict):
            out[k] = deep_merge(below, v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def read_yaml(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InrError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise InrError(f"{path}: not valid YAML{line}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InrError(f"{path}: a config file must hold a mapping of keys")
    return data


def parse_set(item: str) -> dict:
    """``a.b.c=value`` -> ``{"a": {"b": {"c": value}}}`` with YAML-typed value."""
    key, sep, raw = item.partition("=")
    if not sep or not key or any(not p for p in key.split(".")):
        raise InrError(f"--set {item!r}: expected key=value, e.g. train.lr=1e-3")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise InrError(f"--set {item!r}: cannot parse the value {raw!r}") from None
    # YAML 1.1 reads "1e-3" as a string; accept it as the number people mean.
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value.lower() for c in ".e") else value
        except ValueError:
            pass
    out: dict = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def resolve(raw: dict, data_config_for, cls=RunConfig) -> RunConfig:
    """Typed config (``cls``: RunConfig or a subclass) from a merged raw dict;
    ``data_config_for(modality)`` gives the modality's data dataclass."""
    raw = dict(raw)
    data = raw.pop("data", None)
    cfg = from_dict(cls, raw)
    cfg.data = from_dict(data_config_for(cfg.modality), data, "config.data")
    return cfg


def merged(files, sets, overrides: dict, base: dict | None = None, kind: str = "fit") -> dict:
    """The raw config of a run of ``kind``: ``base`` (a built-in default), each
    file in order, then each ``--set``, then ``overrides``; in every layer the
    sections for ``kind`` apply and other kinds' are dropped (:func:`for_kind`)."""
    raw: dict = for_kind(base or {}, kind)
    for f in files:
        raw = deep_merge(raw, for_kind(read_yaml(f), kind))
    for s in sets:
        raw = deep_merge(raw, for_kind(parse_set(s), kind))
    return deep_merge(raw, for_kind(overrides, kind))


def dump_yaml(cfg: RunConfig) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)
