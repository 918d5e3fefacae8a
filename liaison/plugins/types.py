"""Value types that plugins declare and that hooks return."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Setting:
    """One typed plugin setting, stored as JSON per scope (global, region, station).

    ``type`` is one of ``bool``, ``int``, ``str``, ``list`` (a list of strings, entered one
    per line or comma-separated) or ``choice`` (one of ``choices``).
    """

    name: str
    type: str
    default: Any
    label: Any
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    min: int | None = None
    max: int | None = None

    def parse(self, raw: Any) -> Any:
        """Turn form or JSON input into the setting's type; raise ``ValueError`` if it does not fit."""
        if self.type == "bool":
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on", "y"}
        if self.type == "int":
            value = int(str(raw).strip())
            if self.min is not None and value < self.min:
                raise ValueError(f"must be at least {self.min}")
            if self.max is not None and value > self.max:
                raise ValueError(f"must be at most {self.max}")
            return value
        if self.type == "list":
            items = raw if isinstance(raw, (list, tuple)) else str(raw).replace(",", "\n").splitlines()
            return [str(item).strip() for item in items if str(item).strip()]
        if self.type == "choice":
            if raw not in {value for value, _ in self.choices}:
                raise ValueError("not one of the choices")
            return raw
        if self.type == "str":
            return str(raw).strip()
        raise ValueError(f"unknown setting type {self.type!r}")


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin says about itself. Every plugin module or object has ``plugin_info``."""

    name: str  # also the prefix of its tables, endpoints and Alembic branch
    title: Any
    version: str
    description: Any = ""
    regions: tuple[str, ...] = ()  # region codes the plugin suits, e.g. ("ASEAN",)
    settings: tuple[Setting, ...] = ()


def _html(content: Any) -> Markup:
    """Plugin HTML is escaped unless the plugin returned explicit ``Markup``."""
    return content if isinstance(content, Markup) else escape(content or "")


@dataclass(frozen=True)
class Panel:
    """A box on a record's page. ``body`` is escaped unless it is ``Markup``."""

    title: Any
    body: Any
    order: int = 100

    @property
    def html(self) -> Markup:
        return _html(self.body)


@dataclass(frozen=True)
class Widget:
    """A card on the home page. ``body`` is escaped unless it is ``Markup``."""

    title: Any
    body: Any
    order: int = 100

    @property
    def html(self) -> Markup:
        return _html(self.body)


@dataclass(frozen=True)
class NavItem:
    """An entry of the main navigation."""

    label: Any
    endpoint: str
    order: int = 100
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ExportColumn:
    """A column of a spreadsheet export: ``value(record)`` gives the cell."""

    key: str
    header: Any
    value: Callable[[Any], Any]
