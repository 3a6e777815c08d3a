"""Typed dataclasses from plain dicts (parsed YAML/JSON) and back, strictly.

Unknown keys and ill-typed values raise :class:`InrError` naming the key path.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Union

from inr.errors import InrError


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
    it names."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InrError(f"{where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise InrError(f"{where}: unknown key {unknown[0]!r}; valid: {', '.join(names)}")
    obj = base if base is not None else cls()
    kwargs = {}
    for k, v in data.items():
        current = getattr(obj, k)
        if dataclasses.is_dataclass(current) and isinstance(v, dict):
            kwargs[k] = from_dict(type(current), v, f"{where}.{k}", base=current)
        else:
            kwargs[k] = _coerce(v, hints[k], f"{where}.{k}")
    return dataclasses.replace(obj, **kwargs)


def to_dict(obj) -> dict:
    return dataclasses.asdict(obj)


