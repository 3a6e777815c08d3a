"""Explicit name -> object registries with helpful errors."""
from __future__ import annotations

from typing import Generic, Iterator, TypeVar

from inr.errors import InrError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named dict whose lookup error lists the valid names."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T | None = None):
        """Register ``item`` under ``name``; usable as a decorator."""
        if item is None:
            def deco(obj: T) -> T:
                self.register(name, obj)
                return obj
            return deco
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(sorted(self._items))
            raise InrError(f"unknown {self.kind} {name!r}; valid: {valid}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
