"""Whether a plugin is active, and its settings — decided here, from the database, per request.

Resolution runs from the narrow scope to the wide one: the station's row, else its region's
row, else the global row, else off. Every worker reads the same rows, so a change made on the
Plugins page takes effect at once everywhere, without a restart. Settings resolve key by key in
the same order, over the defaults the plugin declares.

The core's own hook implementations (plugin ``core``) are always active.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from flask_login import current_user
from sqlalchemy import select

from ..models import AuditEntry, PluginScope, Station, User, db, utcnow
from ..scope import visible_station_ids
from .manager import host

CORE = "core"
GLOBAL = "global"


def scope_key(region_id: int | None = None, station_id: int | None = None) -> str:
    if station_id is not None:
        return f"station:{station_id}"
    if region_id is not None:
        return f"region:{region_id}"
    return GLOBAL


@dataclass
class Activation:
    """A snapshot of every plugin's switches and settings, read in two small queries."""

    rows: dict[tuple[str, str], PluginScope]
    region_of: dict[int, int]  # station id -> region id

    @classmethod
    def load(cls) -> Activation:
        rows = {(row.plugin, row.scope_key): row for row in db.session.scalars(select(PluginScope))}
        region_of = dict(db.session.execute(select(Station.id, Station.region_id)).all())
        return cls(rows, region_of)

    def _chain(self, plugin: str, station_id: int | None, region_id: int | None) -> list[PluginScope]:
        """The rows that apply, narrowest first."""
        if station_id is not None and region_id is None:
            region_id = self.region_of.get(station_id)
        keys = []
        if station_id is not None:
            keys.append(scope_key(station_id=station_id))
        if region_id is not None:
            keys.append(scope_key(region_id=region_id))
        keys.append(GLOBAL)
        return [self.rows[(plugin, key)] for key in keys if (plugin, key) in self.rows]

    def is_enabled(self, plugin: str, station_id: int | None = None, region_id: int | None = None) -> bool:
        if plugin == CORE:
            return True
        for row in self._chain(plugin, station_id, region_id):
            if row.enabled is not None:
                return row.enabled
        return False

    def active_station_ids(self, plugin: str) -> frozenset[int]:
        return frozenset(sid for sid in self.region_of if self.is_enabled(plugin, sid))

    def row(self, plugin: str, key: str) -> PluginScope | None:
        return self.rows.get((plugin, key))

    def settings(self, plugin: str, station_id: int | None = None, region_id: int | None = None) -> dict[str, Any]:
        info = host().plugins[plugin].info
        values = {setting.name: setting.default for setting in info.settings}
        for row in reversed(self._chain(plugin, station_id, region_id)):
            for name, value in (row.settings or {}).items():
                if name in values:
                    values[name] = value
        return values


def current() -> Activation:
    """This request's snapshot (loaded on first use)."""
    if not has_app_context():
        raise RuntimeError("plugin activation needs an app context")
    if "_plugin_activation" not in g:
        g._plugin_activation = Activation.load()
    return g._plugin_activation


def forget() -> None:
    """Drop this request's snapshot after a change, so the rest of the request sees it."""
    g.pop("_plugin_activation", None)
    g.pop("_plugins_for_user", None)


def installed() -> list[str]:
    return [name for name in host().plugins if name != CORE]


def active_for_station(station_id: int) -> set[str]:
    snapshot = current()
    return {name for name in host().plugins if snapshot.is_enabled(name, station_id)}


def active_for_user(user: User | None = None) -> set[str]:
    """Plugins active for at least one station the user can see (plus the core)."""
    user = user if user is not None else current_user
    cache = g.setdefault("_plugins_for_user", {})
    key = getattr(user, "id", None)
    if key not in cache:
        snapshot = current()
        visible = visible_station_ids(user)
        station_ids = set(snapshot.region_of) if visible is None else set(db.session.scalars(visible))
        cache[key] = {CORE} | {
            name for name in installed()
            if station_ids & snapshot.active_station_ids(name)
        }
    return cache[key]


def is_active_for_station(plugin: str, station_id: int) -> bool:
    return current().is_enabled(plugin, station_id)


def active_station_ids(plugin: str) -> frozenset[int]:
    return current().active_station_ids(plugin)


def settings(plugin: str, station_id: int | None = None, region_id: int | None = None) -> dict[str, Any]:
    return current().settings(plugin, station_id=station_id, region_id=region_id)


# Changes ---------------------------------------------------------------------------------

def _scope_row(plugin: str, region_id: int | None, station_id: int | None) -> PluginScope:
    key = scope_key(region_id, station_id)
    row = db.session.scalar(select(PluginScope).where(PluginScope.plugin == plugin, PluginScope.scope_key == key))
    if row is None:
        row = PluginScope(plugin=plugin, scope_key=key, region_id=region_id if station_id is None else None,
                          station_id=station_id, enabled=None, settings={})
        db.session.add(row)
    return row


def _audit_region(region_id: int | None, station_id: int | None) -> int | None:
    if station_id is not None:
        return db.session.scalar(select(Station.region_id).where(Station.id == station_id))
    return region_id


def set_enabled(plugin: str, enabled: bool | None, actor: User, *, region_id: int | None = None,
                station_id: int | None = None) -> None:
    """Switch ``plugin`` on (True), off (False) or back to "inherit" (None) at one scope, audited.

    The caller checks that ``actor`` may change this scope and commits.
    """
    if plugin not in installed():
        raise KeyError(plugin)
    row = _scope_row(plugin, region_id, station_id)
    before = row.enabled
    row.enabled = enabled
    row.updated_by_id = actor.id
    row.updated_at = utcnow()
    db.session.add(AuditEntry(
        actor_id=actor.id, action="plugin.switch", object_type="plugin", object_id=None,
        region_id=_audit_region(region_id, station_id), station_id=station_id,
        details={"plugin": plugin, "scope": row.scope_key, "before": before, "after": enabled},
    ))
    forget()


def save_settings(plugin: str, values: dict[str, Any], actor: User, *, region_id: int | None = None,
                  station_id: int | None = None) -> None:
    """Store setting overrides at one scope (already parsed by the settings form), audited."""
    info = host().plugins[plugin].info
    known = {setting.name for setting in info.settings}
    row = _scope_row(plugin, region_id, station_id)
    before = dict(row.settings or {})
    row.settings = {name: value for name, value in values.items() if name in known}
    row.updated_by_id = actor.id
    row.updated_at = utcnow()
    db.session.add(AuditEntry(
        actor_id=actor.id, action="plugin.settings", object_type="plugin", object_id=None,
        region_id=_audit_region(region_id, station_id), station_id=station_id,
        details={"plugin": plugin, "scope": row.scope_key, "before": before, "after": row.settings},
    ))
    forget()
