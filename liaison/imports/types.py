"""Importable record types that plugins register through ``liaison_import_types``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .mapping import Target


@dataclass(frozen=True)
class ImportType:
    key: str  # "<plugin>.<type>"
    label: Any
    targets: tuple[Target, ...]
    create: Callable[..., int]  # create(station, values: dict[str, str], actor) -> record id
    required: tuple[str, ...] = ()
    remove: Callable[[list[int]], None] | None = None


__all__ = ["ImportType", "Target"]
