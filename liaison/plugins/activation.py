"""Whether a plugin is active, and its settings — decided here, from the database, per request.

Resolution runs from the narrow scope to the wide one: the station's row, else its region's
row, else the global row, else off. Every worker reads the same rows, so a change made on the
Plugins page takes effect at once everywhere, without a restart. Settings resolve key by key in
the same order, over the defaults the plugin declares.

The core's own hook implementations (plugin ``core``) are always active.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import g, has_app_context
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from sqlalchemy.sql.elements import True_

from ..models import AuditEntry, PluginScope, Station, User, db, utcnow
from ..scope import _admin_region_ids_query, visible_station_ids
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
class Switches:
    """One plugin's explicit on/off switches: by station, by region, and the global one."""

    stations: dict[int, bool] = field(default_factory=dict)
    regions: dict[int, bool] = field(default_factory=dict)
    everywhere: bool | None = None

    @property
    def ever_on(self) -> bool:
        return True in self.stations.values() or True in self.regions.values() or self.everywhere is True

    def condition(self) -> ColumnElement:
        """A condition on ``Station`` rows: the plugin is on there. Its size is that of the
        switches (a handful), not of the stations; ``stations.id`` and ``stations.region_id``
        are indexed."""
        if not self.ever_on:
            return false()
        if self.everywhere and False not in self.stations.values() and False not in self.regions.values():
            return true()
        decided = sorted(self.stations)
        on_stations = sorted(sid for sid, on in self.stations.items() if on)
        on_regions = sorted(rid for rid, on in self.regions.items() if on)
        undecided_station = Station.id.notin_(decided) if decided else true()
        parts = []
        if on_stations:
            parts.append(Station.id.in_(on_stations))
        if on_regions:
            parts.append(and_(undecided_station, Station.region_id.in_(on_regions)))
        if self.everywhere:
            undecided_region = Station.region_id.notin_(sorted(self.regions)) if self.regions else true()
            parts.append(and_(undecided_station, undecided_region))
        return or_(*parts) if parts else false()


@dataclass
class Activation:
    """This request's view of every plugin's switches and settings.

    Loaded in one query over ``plugin_scopes`` (a row per switch an admin made — a handful, not
    one per station). Which region a station is in is asked only for the stations a request
    deals with, by primary key and through the session's identity map (no query when the
    station is already loaded). Lists ask the database with ``Switches.condition``; nothing here
    reads every station.
    """

    rows: dict[tuple[str, str], PluginScope]
    _region_of: dict[int, int | None] = field(default_factory=dict)
    _switches: dict[str, Switches] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Activation:
        rows = {(row.plugin, row.scope_key): row for row in db.session.scalars(select(PluginScope))}
        return cls(rows)

    def switches(self, plugin: str) -> Switches:
        if plugin not in self._switches:
            found = Switches()
            for (name, key), row in self.rows.items():
                if name != plugin or row.enabled is None:
                    continue
                if key == GLOBAL:
                    found.everywhere = row.enabled
                elif row.station_id is not None:
                    found.stations[row.station_id] = row.enabled
                elif row.region_id is not None:
                    found.regions[row.region_id] = row.enabled
            self._switches[plugin] = found
        return self._switches[plugin]

    def region_of(self, station_id: int) -> int | None:
        if station_id not in self._region_of:
            station = db.session.get(Station, station_id)  # the identity map first
            self._region_of[station_id] = station.region_id if station is not None else None
        return self._region_of[station_id]

    def _has_region_rows(self, plugin: str) -> bool:
        return any(name == plugin and key.startswith("region:") for name, key in self.rows)

    def _chain(self, plugin: str, station_id: int | None, region_id: int | None) -> list[PluginScope]:
        """The rows that apply, narrowest first."""
        if station_id is not None and region_id is None and self._has_region_rows(plugin):
            region_id = self.region_of(station_id)
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

    def station_condition(self, plugin: str) -> ColumnElement:
        """SQL: ``Station`` rows where ``plugin`` is on."""
        return true() if plugin == CORE else self.switches(plugin).condition()

    def active_station_ids(self, plugin: str) -> frozenset[int]:
        """Every station where ``plugin`` is on — one indexed query; for exports, not pages."""
        return frozenset(db.session.scalars(select(Station.id).where(self.station_condition(plugin))))

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
    g.pop("_plugins_for_station", None)


def installed() -> list[str]:
    return [name for name in host().plugins if name != CORE]


def active_for_station(station_id: int) -> set[str]:
    cache = g.setdefault("_plugins_for_station", {})
    if station_id not in cache:
        snapshot = current()
        cache[station_id] = {name for name in host().plugins if snapshot.is_enabled(name, station_id)}
    return cache[station_id]


def active_for_user(user: User | None = None) -> set[str]:
    """Plugins active for at least one station the user can see (plus the core).

    At most one query, whatever the number of stations: an ``EXISTS`` per plugin that is
    switched on somewhere, over the user's visible stations."""
    user = user if user is not None else current_user
    cache = g.setdefault("_plugins_for_user", {})
    key = getattr(user, "id", None)
    if key not in cache:
        snapshot = current()
        candidates = [name for name in installed() if snapshot.switches(name).ever_on]
        active = {CORE}
        if candidates:
            visible = _visible_stations_condition(user)
            columns = []
            for name in candidates:
                stmt = select(Station.id).where(snapshot.station_condition(name), visible)
                columns.append(exists(stmt))
            flags = db.session.execute(select(*columns)).one()
            active |= {name for name, flag in zip(candidates, flags) if flag}
        cache[key] = active
    return cache[key]


def _visible_stations_condition(user: User) -> ColumnElement:
    """The user's stations as a condition on ``Station`` rows that an ``EXISTS`` can stop early
    on (no list of every station in scope is built first)."""
    if not getattr(user, "is_authenticated", False):
        return false()
    if user.is_hq:
        return true()
    if user.is_regional_admin:
        return Station.region_id.in_(_admin_region_ids_query(user))
    return Station.id.in_(visible_station_ids(user))


def is_active_for_station(plugin: str, station_id: int) -> bool:
    return current().is_enabled(plugin, station_id)


def active_station_ids(plugin: str) -> frozenset[int]:
    return current().active_station_ids(plugin)


def active_stations_filter(plugin: str, column: ColumnElement) -> ColumnElement:
    """SQL: ``column`` (a station id) names a station where ``plugin`` is on."""
    condition = current().station_condition(plugin)
    if isinstance(condition, True_):
        return true()
    return column.in_(select(Station.id).where(condition))


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
