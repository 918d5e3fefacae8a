"""The admin's Plugins page: what is installed, where it is active, its settings and errors."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..i18n import display_name, sort_key
from ..models import PluginError, Region, Role, Station, db
from ..params import parse_id
from ..permissions import administers_region, can_manage_station, roles_required
from ..scope import visible_regions_query, visible_stations_query
from . import activation
from .activation import GLOBAL
from .manager import host

bp = Blueprint("plugins_admin", __name__, url_prefix="/admin/plugins")


def _scope(key: str) -> tuple[str, int | None, int | None, object | None]:
    """Parse ``global`` / ``region:3`` / ``station:7``; 404 if unknown, 403 if not the user's."""
    kind, _sep, ident = key.partition(":")
    if kind == GLOBAL and not ident:
        if not current_user.is_admin:
            abort(403)
        return key, None, None, None
    if parse_id(ident) is None:
        abort(404)
    if kind == "region":
        region = db.session.scalar(visible_regions_query().where(Region.id == int(ident)))
        if region is None:
            abort(404)
        if not administers_region(current_user, region.id):
            abort(403)
        return key, region.id, None, region
    if kind == "station":
        station = db.session.scalar(visible_stations_query().where(Station.id == int(ident)))
        if station is None:
            abort(404)
        if not can_manage_station(current_user, station):
            abort(403)
        return key, None, station.id, station
    abort(404)


def _plugin_or_404(name: str):
    if name not in activation.installed():
        abort(404)
    return host().plugins[name]


@bp.route("/")
@roles_required(Role.REGIONAL_ADMIN)
def index():
    plugin_host = host()
    snapshot = activation.current()
    regions = [r for r in db.session.scalars(visible_regions_query()) if administers_region(current_user, r.id)]
    regions.sort(key=lambda region: sort_key(display_name(region)))
    stations = [s for s in db.session.scalars(visible_stations_query().options(selectinload(Station.region)))
                if can_manage_station(current_user, s)]
    names = activation.installed()
    return render_template(
        "plugins/index.html", plugins=[plugin_host.plugins[n] for n in names], snapshot=snapshot,
        regions=regions, stations=stations, errors=_errors_by_hook(names), failures=plugin_host.failures,
        hooks={n: plugin_host.implemented_hooks(n) for n in names} if current_user.is_admin else {},
    )


def _errors_by_hook(names: list[str]) -> dict[str, list[tuple[PluginError, int]]]:
    """Per plugin, the latest error of each failing hook and how often that hook failed."""
    latest = (select(func.max(PluginError.id).label("id"), func.count().label("times"))
              .where(PluginError.plugin.in_(names)).group_by(PluginError.plugin, PluginError.hook).subquery())
    rows = db.session.execute(
        select(PluginError, latest.c.times).join(latest, PluginError.id == latest.c.id).order_by(PluginError.id.desc())
    ).all()
    errors: dict[str, list[tuple[PluginError, int]]] = {name: [] for name in names}
    for error, times in rows:
        errors[error.plugin].append((error, times))
    return errors


@bp.route("/<name>/switch", methods=["POST"])
@roles_required(Role.REGIONAL_ADMIN)
def switch(name: str):
    _plugin_or_404(name)
    key, region_id, station_id, _record = _scope(request.form.get("scope", ""))
    state = request.form.get("state")
    if state not in ("on", "off", "inherit"):
        abort(400)
    enabled = {"on": True, "off": False, "inherit": None}[state]
    activation.set_enabled(name, enabled, current_user, region_id=region_id, station_id=station_id)
    db.session.commit()
    flash(_("Plugin setting saved; it applies at once."), "success")
    return redirect(url_for("plugins_admin.index") + f"#plugin-{name}")


@bp.route("/<name>/settings", methods=["GET", "POST"])
@roles_required(Role.REGIONAL_ADMIN)
def settings(name: str):
    plugin = _plugin_or_404(name)
    key, region_id, station_id, record = _scope(request.values.get("scope", GLOBAL))
    snapshot = activation.current()
    row = snapshot.row(name, key)
    stored = dict(row.settings or {}) if row else {}
    effective = snapshot.settings(name, station_id=station_id, region_id=region_id)
    errors: dict[str, str] = {}
    values = {}
    if request.method == "POST":
        for setting in plugin.info.settings:
            raw = request.form.get(setting.name, "")
            if setting.type == "bool":
                choice = request.form.get(setting.name, "inherit")
                if choice == "inherit":
                    continue
                values[setting.name] = choice == "on"
                continue
            if raw.strip() == "":
                continue  # blank: inherit from the wider scope
            try:
                values[setting.name] = setting.parse(raw)
            except (ValueError, TypeError):
                errors[setting.name] = _("This value is not valid for this setting.")
        if not errors:
            activation.save_settings(name, values, current_user, region_id=region_id, station_id=station_id)
            db.session.commit()
            flash(_("Settings saved."), "success")
            return redirect(url_for("plugins_admin.settings", name=name, scope=key))
        stored = {**stored, **{k: request.form.get(k) for k in errors}}
    return render_template("plugins/settings.html", plugin=plugin, scope=key, record=record,
                           stored=stored, effective=effective, errors=errors, form_values=request.form)
