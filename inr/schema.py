"""Typed dataclasses from plain dicts (parsed YAML/JSON) and back, strictly.

Unknown keys and ill-typed values raise :class:`InrError` naming the key path.

Tagged sections. A section whose keys depend on a ``name`` (each encoding,
later each denoiser) is a base dataclass with only ``name``, plus one
subclass per name holding only that variant's keys::

    @dataclass
    class EncodingConfig:          # the field's type hint: ModelConfig.encoding
        name: str = "identity"

    @register_variant(EncodingConfig, "nerf")
    @dataclass
    class NerfEncoding(EncodingConfig):
        name: str = "nerf"
        n_freqs: int = 6

:func:`from_dict` then resolves the subclass from the section's ``name``:
same name as the current value (the default, or what an earlier layer set):
the given keys are merged over it; another name: the keys given beside the
name apply over the new variant's defaults. A bare name (``activation: sine``,
``--set model.activation=sine``) is short for ``{name: sine}``. A key of another variant is an
error listing the keys that variant has. Inside a tagged section, a key that
is a variant's name holding a mapping applies only when that variant is the
one selected (``encoding: {hash: {levels: 4}, nerf: {n_freqs: 4}}``): how
``configs/smoke.yaml`` shrinks whatever encoding a config chose.
:func:`to_dict` writes the variant's keys, ``name`` included, so a written
config reads back to the same object.

Renamed keys. :data:`RENAMED` maps an old key to the key that replaced it
(``"old": "new"``, or ``"Class.old": "section.new"`` to limit it to one
dataclass); an old key in a config is a one-line error naming the new one.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Union

from inr.errors import InrError

VARIANTS: dict[type, dict[str, type]] = {}
"""tagged base dataclass -> {name: variant dataclass}"""

RENAMED: dict[str, str] = {}
"""old key (or ``Class.old``) -> the key that replaced it; see the module docstring"""


def register_variant(base: type, name: str):
    """Class decorator: register dataclass ``cls`` as ``base``'s variant ``name``."""
    def deco(cls):
        variants = VARIANTS.setdefault(base, {})
        if name in variants:
            raise ValueError(f"{base.__name__} variant {name!r} registered twice")
        if cls().name != name:
            raise ValueError(f"{cls.__name__}.name must default to {name!r}")
        variants[name] = cls
        return cls
    return deco


def own_keys(base: type, section: dict, default: str) -> dict:
    """``section`` with only the keys of the variant its ``name`` (else
    ``default``) selects: how a flat section of an older file, holding every
    variant's keys, is read. An unknown name leaves it as it is, for
    :func:`from_dict` to name the valid ones."""
    cls = VARIANTS[base].get(section.get("name", default))
    if cls is None:
        return section
    return {k: v for k, v in section.items() if k in {f.name for f in dataclasses.fields(cls)}}


def _tagged_base(cls) -> type | None:
    for klass in getattr(cls, "__mro__", ()):
        if klass in VARIANTS:
            return klass
    return None


def variant_class(base: type, name, where: str) -> type:
    variants = VARIANTS[base]
    if name not in variants:
        raise InrError(f"{where}.name: unknown {where.rsplit('.', 1)[-1]} {name!r}; valid: {', '.join(sorted(variants))}")
    return variants[name]


def _resolve_tagged(cls, data, where: str, base=None):
    """The variant of tagged ``cls`` that ``data`` (with ``base`` under it) selects."""
    tag = _tagged_base(cls)
    if data is None:
        data = {}
    if isinstance(data, str):  # ``activation: sine`` is short for ``activation: {name: sine}``
        data = {"name": data}
    if not isinstance(data, dict):
        raise InrError(f"{where}: expected a mapping, got {data!r}")
    current = base.name if base is not None else cls().name
    name = data.get("name", current)
    variant = variant_class(tag, name, where)
    if base is None or name != base.name or type(base) is not variant:
        base = variant()
    fields = _names(variant)
    own = {k: v for k, v in data.items() if k in fields or not (k in VARIANTS[tag] and isinstance(v, dict))}
    picked = data.get(name)
    if isinstance(picked, dict) and name not in fields:
        own = {**own, **picked}
    return _from_dict(variant, own, where, base)


def _names(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _unknown_key(cls, key: str, names: list[str], where: str) -> InrError:
    new = RENAMED.get(f"{cls.__name__}.{key}", RENAMED.get(key))
    if new is not None:
        return InrError(f"{where}: key {key!r} is now {new!r}")
    return InrError(f"{where}: unknown key {key!r}; valid: {', '.join(names)}")


def _coerce(value, tp, where: str):
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], where)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if origin is dict:
        if not isinstance(value, dict):
            raise InrError(f"{where}: expected a mapping, got {value!r}")
        key_tp, val_tp = typing.get_args(tp)
        return {_coerce(k, key_tp, f"{where} key"): _coerce(v, val_tp, f"{where}.{k}") for k, v in value.items()}
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise InrError(f"{where}: expected a list, got {value!r}")
        (item_tp,) = typing.get_args(tp)
        return [_coerce(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
    if tp is bool:
        if not isinstance(value, bool):
            raise InrError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InrError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InrError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise InrError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def from_dict(cls, data, where: str = "config", base=None):
    """Build dataclass ``cls`` from a dict, rejecting unknown keys.

    Keys not given keep their defaults: those of ``base`` (an instance) when
    given, else the class's; a partial nested section overrides only the keys
    it names. A tagged ``cls`` resolves to the variant its ``name`` selects."""
    if _tagged_base(cls) is not None:
        return _resolve_tagged(cls, data, where, base)
    return _from_dict(cls, data, where, base)


def _from_dict(cls, data, where: str, base):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InrError(f"{where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = _names(cls)
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise _unknown_key(cls, unknown[0], names, where)
    obj = base if base is not None else cls()
    kwargs = {}
    for k, v in data.items():
        current = getattr(obj, k)
        if dataclasses.is_dataclass(current) and isinstance(v, dict):
            hint = hints[k] if dataclasses.is_dataclass(hints[k]) else type(current)
            kwargs[k] = from_dict(hint, v, f"{where}.{k}", base=current)
        else:
            kwargs[k] = _coerce(v, hints[k], f"{where}.{k}")
    return dataclasses.replace(obj, **kwargs)


def to_dict(obj) -> dict:
    return dataclasses.asdict(obj)


