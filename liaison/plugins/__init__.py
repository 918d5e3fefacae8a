"""The plugin system: hookspecs, the per-app host, activation and the calls the core makes.

Plugin authors need only ``from liaison import hookimpl`` and the types in
``liaison.plugins.types``; see ``docs/plugins.md``.
"""
from __future__ import annotations

import logging
from typing import Any, Iterable

from flask import Flask, abort, g, request
from flask_login import current_user

from ..models import db
from . import activation, errors
from .hookspecs import hookimpl, hookspec
from .manager import ENTRY_POINT_GROUP, EXTENSION_KEY, PluginHost, host
from .types import ExportColumn, NavItem, Panel, PluginInfo, Setting, Widget

log = logging.getLogger(__name__)

__all__ = [
    "ENTRY_POINT_GROUP", "ExportColumn", "NavItem", "Panel", "PluginHost", "PluginInfo", "Setting",
    "Widget", "accessible_for_user", "emit", "export_columns", "form_data", "form_fields", "form_saved",
    "granted_for_user", "home_widgets", "hookimpl", "hookspec", "host", "init_app", "nav_items", "panels",
    "require_active_for_station", "validate_lead",
]


def init_app(app: Flask) -> None:
    from .. import core_hooks

    plugin_host = PluginHost(trace=app.config.get("PLUGINS_TRACE") or None)  # else LIAISON_TRACE_PLUGINS
    app.extensions[EXTENSION_KEY] = plugin_host
    plugin_host.register(core_hooks, "liaison core")
    plugin_host.load(app)
    _register_blueprints(app, plugin_host)
    for _plugin, commands in plugin_host.startup_results("liaison_cli_commands"):
        for command in commands:
            app.cli.add_command(command)
    errors.init_app(app)
    app.before_request(_guard_plugin_pages)
    app.jinja_env.globals.update(plugin_panels=panels, plugin_home_widgets=home_widgets)


def _register_blueprints(app: Flask, plugin_host: PluginHost) -> None:
    for plugin, blueprints in plugin_host.startup_results("liaison_blueprints"):
        for blueprint in blueprints:
            try:
                app.register_blueprint(blueprint)
            except Exception as exc:
                plugin_host.record_error(plugin, "liaison_blueprints", exc)
                continue
            plugin_host.blueprint_owner[blueprint.name] = plugin


def translation_dirs(app: Flask) -> list[str]:
    return [d for _plugin, dirs in host(app).startup_results("liaison_translation_dirs") for d in dirs]


def migration_dirs(app: Flask) -> list[str]:
    return [d for _plugin, dirs in host(app).startup_results("liaison_migration_dirs") for d in dirs]


def _guard_plugin_pages():
    """A plugin's pages exist only where it is active: elsewhere they answer 404."""
    if not request.blueprint:
        return None
    plugin = host().blueprint_owner.get(request.blueprint.split(".")[0])
    if plugin is None:
        return None
    if not current_user.is_authenticated:
        from ..extensions import login_manager

        return login_manager.unauthorized()
    if plugin not in activation.active_for_user() and plugin not in granted_for_user():
        abort(404)
    return None


def granted_for_user(user=None) -> set[str]:
    """Plugins that open their pages to ``user`` through ``liaison_plugin_access`` although no
    station in the user's scope has them on (e.g. a plugin's role-scoped group).

    The hook is called through pluggy only for plugins switched on somewhere and not already
    active for the user; a result other than ``True``/``None`` is the plugin's error. Cached per
    request (and dropped with the activation snapshot when a switch changes)."""
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return set()
    snapshot = activation.current()
    cached = g.get("_plugins_granted")
    if cached is None or cached[0] is not snapshot:
        cached = g._plugins_granted = (snapshot, {})
    by_user = cached[1]
    if user.id not in by_user:
        active = activation.active_for_user(user)
        candidates = [name for name in activation.installed()
                      if name not in active and snapshot.switches(name).ever_on]
        granted: set[str] = set()
        if candidates:
            for plugin, result in host().call("liaison_plugin_access", candidates, user=user):
                if result is True:
                    granted.add(plugin)
                else:
                    host().record_error(plugin, "liaison_plugin_access",
                                        TypeError(f"expected True or None, got {type(result).__name__}"))
        by_user[user.id] = granted
    return by_user[user.id]


def accessible_for_user(user=None) -> set[str]:
    """Plugins whose pages ``user`` has: active at a station in their scope, or granted
    (``granted_for_user``)."""
    return activation.active_for_user(user) | granted_for_user(user)


def require_active_for_station(plugin: str, station_id: int) -> None:
    """For a plugin's view of one record: 404 unless the plugin is active for its station."""
    if not activation.is_active_for_station(plugin, station_id):
        abort(404)


# Calls the core makes -------------------------------------------------------------------

def _typed(hook: str, results: Iterable[tuple[str, Any]], kind: type) -> list:
    """Flatten hook results, keeping only items of ``kind``; anything else is the plugin's error."""
    items = []
    for plugin, result in results:
        for item in result if isinstance(result, (list, tuple)) else [result]:
            if isinstance(item, kind):
                items.append(item)
            else:
                host().record_error(plugin, hook, TypeError(f"expected {kind.__name__}, got {type(item).__name__}"))
    return sorted(items, key=lambda item: item.order)


def panels(page: str, record: Any, user=None) -> list[Panel]:
    user = user if user is not None else current_user
    active = activation.active_for_station(_station_id_of(page, record))
    return _typed("liaison_panels", host().call("liaison_panels", active, page=page, record=record, user=user), Panel)


def nav_items(user=None) -> list[NavItem]:
    user = user if user is not None else current_user
    results = host().call("liaison_nav_items", accessible_for_user(user), user=user)
    return _typed("liaison_nav_items", results, NavItem)


def home_widgets(user=None) -> list[Widget]:
    user = user if user is not None else current_user
    results = host().call("liaison_home_widgets", accessible_for_user(user), user=user)
    return _typed("liaison_home_widgets", results, Widget)


def export_columns(export: str, user=None) -> list[tuple[str, ExportColumn]]:
    """``(plugin, column)`` pairs; the caller blanks cells of records where the plugin is off."""
    user = user if user is not None else current_user
    columns = []
    for plugin, result in host().call("liaison_export_columns", activation.active_for_user(user), export=export):
        for column in result if isinstance(result, (list, tuple)) else [result]:
            if isinstance(column, ExportColumn):
                columns.append((plugin, column))
            else:
                host().record_error(plugin, "liaison_export_columns", TypeError("expected ExportColumn"))
    return sorted(columns, key=lambda pair: pair[0] != activation.CORE)  # the core's columns first


def emit(hook: str, station_id: int, **kwargs: Any) -> None:
    """Call an event hook (after commit) for the plugins active for ``station_id``."""
    host().call(hook, activation.active_for_station(station_id), **kwargs)


FIELD_SEPARATOR = "__"


def form_fields(form: str, station) -> dict[str, Any]:
    """Extra fields for a core form, names prefixed ``<plugin>__``."""
    fields = {}
    active = activation.active_for_station(station.id)
    for plugin, result in host().call("liaison_form_fields", active, form=form, station=station):
        if not isinstance(result, dict):
            host().record_error(plugin, "liaison_form_fields", TypeError("expected a dict of fields"))
            continue
        for name, field in result.items():
            fields[f"{plugin}{FIELD_SEPARATOR}{name}"] = field
    return fields


def form_data(form: str, record: Any) -> dict[str, Any]:
    data = {}
    active = activation.active_for_station(record.station_id)
    for plugin, result in host().call("liaison_form_data", active, form=form, record=record):
        if isinstance(result, dict):
            data.update({f"{plugin}{FIELD_SEPARATOR}{k}": v for k, v in result.items()})
    return data


def form_saved(form: str, record: Any, data: dict[str, Any], user) -> None:
    """Hand each plugin its own fields' values, in a savepoint per plugin."""
    by_plugin: dict[str, dict[str, Any]] = {}
    for name, value in data.items():
        plugin, _, field = name.partition(FIELD_SEPARATOR)
        by_plugin.setdefault(plugin, {})[field] = value
    plugin_host = host()
    active = activation.active_for_station(record.station_id)
    for impl in plugin_host.pm.hook.liaison_form_saved.get_hookimpls():
        name = impl.plugin_name
        if name not in active or name not in by_plugin:
            continue
        savepoint = db.session.begin_nested()
        try:
            failed, _results = plugin_host.call_one("liaison_form_saved", name, form=form, record=record,
                                                    data=by_plugin[name], user=user)
            if not failed:
                db.session.flush()
        except Exception as exc:  # the plugin's changes could not be written
            plugin_host.record_error(name, "liaison_form_saved", exc)
            failed = True
        if failed:  # the guard has recorded the plugin's error
            savepoint.rollback()
        else:
            savepoint.commit()


def validate_lead(lead: Any, action: str) -> list[str]:
    problems: list[str] = []
    active = activation.active_for_station(lead.station_id)
    for _plugin, result in host().call("liaison_validate_lead", active, lead=lead, action=action):
        problems.extend(str(item) for item in (result if isinstance(result, (list, tuple)) else [result]) if item)
    return problems


def _station_id_of(page: str, record: Any) -> int:
    return record.id if page == "station" else record.station_id


def extend_form(form_class: type, form: str, station) -> type:
    """A subclass of ``form_class`` with the active plugins' extra fields, for this request only.

    The core form class itself is never modified.
    """
    fields = form_fields(form, station)
    if not fields:
        return form_class
    return type(form_class.__name__, (form_class,), fields)


def plugin_field_data(form) -> dict[str, Any]:
    """The values of the plugins' extra fields of a submitted form, by prefixed name."""
    return {name: value for name, value in form.data.items() if FIELD_SEPARATOR in name}
