"""Which records a user may see — decided here, once, in the query layer.

Every list, search, count and by-id lookup of station-owned data goes through these
functions, so a volunteer never sees another station's people and a regional admin nothing of
another region. Out-of-scope records are reported as 404 by ``get_or_404``: existence does not
leak.

A model is station-owned when it has a ``station_id`` column (or names another column in
``__scope_station_column__``); ``Station`` itself is scoped by its id. Plugins' models follow
the same rule and get the same protection: ``scoped(..., plugin=NAME)`` and
``get_or_404(..., plugin=NAME)`` further restrict to the stations where the plugin is switched on,
and ``station_for_new`` decides which station a new record is for, the same way for the core's
forms and the plugins'.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import abort, g
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, false, or_, select, true

from .models import Region, Station, User, db, region_admin, station_membership
from .params import parse_id

M = TypeVar("M")


def _user(user: User | None) -> User:
    return user if user is not None else current_user


def visible_station_ids(user: User | None = None) -> Select | None:
    """A subquery of the ids of stations the user may see; ``None`` means every station."""
    user = _user(user)
    if not getattr(user, "is_authenticated", False):
        return select(Station.id).where(false())
    if user.is_hq:
        return None
    if user.is_regional_admin:
        return select(Station.id).where(Station.region_id.in_(_admin_region_ids_query(user)))
    return select(station_membership.c.station_id).where(station_membership.c.user_id == user.id)


def _admin_region_ids_query(user: User) -> Select:
    return select(region_admin.c.region_id).where(region_admin.c.user_id == user.id)


def station_column(model: Any) -> ColumnElement:
    if model is Station:
        return Station.id
    name = getattr(model, "__scope_station_column__", "station_id")
    return getattr(model, name)


def station_filter(column: ColumnElement, user: User | None = None) -> ColumnElement:
    ids = visible_station_ids(user)
    return true() if ids is None else column.in_(ids)


def scoped(stmt: Select, model: Any, user: User | None = None, *, plugin: str | None = None,
           also: ColumnElement | None = None) -> Select:
    """Restrict ``stmt`` (a select over ``model``) to the records the user may see — and, with
    ``plugin``, to those of stations where that plugin is switched on.

    ``also`` widens what the user sees beyond their stations by a grant the caller computed —
    e.g. a group the user belongs to (a plugin's role-scoped group): the records matching it are
    visible too. The plugin's activation still applies to them."""
    column = station_column(model)
    visible = station_filter(column, user)
    stmt = stmt.where(visible if also is None else or_(visible, also))
    if plugin is not None:
        from .plugins.activation import active_stations_filter

        stmt = stmt.where(active_stations_filter(plugin, column))
    return stmt


def get_or_404(model: type[M], ident: Any, *options: Any, user: User | None = None, plugin: str | None = None,
               also: ColumnElement | None = None) -> M:
    """Load one station-owned record in the user's scope (and, with ``plugin``, of a station
    where the plugin is on; ``also`` as for ``scoped``), or answer 404."""
    ident = parse_id(ident)
    if ident is None:
        abort(404)
    stmt = scoped(select(model).where(model.id == ident), model, user, plugin=plugin, also=also).options(*options)
    record = db.session.scalar(stmt)
    if record is None:
        abort(404)
    return record


def recordable_stations(user: User | None = None, *, plugin: str | None = None,
                        may: Callable[[User, Station], bool] | None = None) -> list[Station]:
    """Active stations in the user's scope (with ``plugin`` on, if given) for which ``may``
    (default: ``acts_for_station``) lets the user record new records."""
    from .i18n import name_order
    from .models import StationStatus
    from .permissions import acts_for_station

    user = _user(user)
    may = may or acts_for_station
    stmt = scoped(select(Station), Station, user, plugin=plugin).where(Station.status == StationStatus.ACTIVE)
    return [station for station in db.session.scalars(stmt.order_by(*name_order(Station))) if may(user, station)]


def station_for_new(requested: Any, *, plugin: str | None = None, user: User | None = None,
                    may: Callable[[User, Station], bool] | None = None) -> tuple[Station | None, list[Station]]:
    """The station a new record is for, as every "new" form decides it.

    ``requested`` is the ``station_id`` the request names (or ``None``). Returns ``(station,
    stations)``: ``stations`` are those the user may record for (``recordable_stations``);
    ``station`` is

    * the requested station, if the user may record for it;
    * with no station requested, the user's only station — or ``None``: let the user choose;

    and the request is refused instead — never silently switched to another station — with
    404 when the requested station is out of the user's scope or the plugin is off there
    (existence does not leak), and 403 when it is in scope but the user does not record for it
    (a suspended station, a station the user only sees), or when there is nothing to record for.
    """
    user = _user(user)
    stations = recordable_stations(user, plugin=plugin, may=may)
    if requested not in (None, ""):
        chosen = parse_id(requested)
        station = next((s for s in stations if s.id == chosen), None)
        if station is None:
            get_or_404(Station, chosen, user=user, plugin=plugin)
            abort(403)
        return station, stations
    if not stations:
        abort(403)
    return (stations[0] if len(stations) == 1 else None), stations


def visible_regions_query(user: User | None = None) -> Select:
    user = _user(user)
    stmt = select(Region).order_by(Region.code)
    if user.is_hq:
        return stmt
    if user.is_regional_admin:
        return stmt.where(Region.id.in_(_admin_region_ids_query(user)))
    return stmt.where(Region.id.in_(select(Station.region_id).where(station_filter(Station.id, user))))


def visible_stations_query(user: User | None = None) -> Select:
    from .i18n import name_order

    return scoped(select(Station), Station, user).order_by(*name_order(Station))


# Per-request caches of the user's memberships, for permission checks on single records.
def member_station_ids(user: User | None = None) -> frozenset[int]:
    user = _user(user)
    return _cached(user, "stations", lambda: db.session.scalars(
        select(station_membership.c.station_id).where(station_membership.c.user_id == user.id)
    ))


def admin_region_ids(user: User | None = None) -> frozenset[int]:
    user = _user(user)
    return _cached(user, "regions", lambda: db.session.scalars(_admin_region_ids_query(user)))


def _cached(user: User, what: str, load) -> frozenset[int]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cache = g.setdefault("_scope_cache", {})
    key = (user.id, what)
    if key not in cache:
        cache[key] = frozenset(load())
    return cache[key]


def visible_users_query(user: User | None = None) -> Select:
    """Accounts a user may see and manage: admins all; regional admins the volunteers of their
    regions' stations and volunteers not yet in any station; others none but themselves."""
    from .models import Role

    user = _user(user)
    stmt = select(User).order_by(User.name)
    if user.is_admin:
        return stmt
    if user.is_regional_admin:
        in_region = select(station_membership.c.user_id).where(
            station_membership.c.station_id.in_(visible_station_ids(user)))
        without_station = ~User.id.in_(select(station_membership.c.user_id))
        return stmt.where(User.role == Role.VOLUNTEER, User.id.in_(in_region) | without_station)
    return stmt.where(User.id == user.id)


# Demands (``liaison.demands``): not station-owned, but presented to the stations of their target
# regions. Their matches are station-owned (the contact's station) and use ``scoped`` as usual.
def visible_demands_condition(user: User | None = None) -> ColumnElement:
    """Demands ``user`` may see: HQ every one; a regional admin those targeting one of their
    regions; a volunteer the active ones (open or matching) targeting their stations' regions."""
    from .demands.models import ACTIVE_STATUSES, Demand, DemandRegion

    user = _user(user)
    if not getattr(user, "is_authenticated", False):
        return false()
    if user.is_hq:
        return true()
    if user.is_regional_admin:
        regions = _admin_region_ids_query(user)
    else:
        regions = select(Station.region_id).where(Station.id.in_(visible_station_ids(user)))
        targeted = Demand.id.in_(select(DemandRegion.demand_id).where(DemandRegion.region_id.in_(regions)))
        return targeted & Demand.status.in_(ACTIVE_STATUSES)
    return Demand.id.in_(select(DemandRegion.demand_id).where(DemandRegion.region_id.in_(regions)))


def get_demand_or_404(ident: Any, *options: Any, user: User | None = None):
    """One demand ``user`` may see (``visible_demands_condition``), or 404."""
    from .demands.models import Demand

    ident = parse_id(ident)
    if ident is None:
        abort(404)
    record = db.session.scalar(select(Demand).where(Demand.id == ident, visible_demands_condition(user))
                               .options(*options))
    if record is None:
        abort(404)
    return record


def manages_demand(demand: Any, user: User | None = None) -> bool:
    """May ``user`` edit the demand and change its status? HQ any; a regional admin one that
    targets one of their regions (``demand.region_rows`` loaded). Volunteers never."""
    user = _user(user)
    if user.is_hq:
        return True
    if user.is_regional_admin:
        return bool(set(demand.region_ids) & admin_region_ids(user))
    return False


def demand_target_regions(user: User | None = None) -> Select:
    """Regions a demand ``user`` records may target: HQ all, a regional admin theirs."""
    user = _user(user)
    stmt = select(Region).order_by(Region.code)
    if user.is_hq:
        return stmt
    if user.is_regional_admin:
        return stmt.where(Region.id.in_(_admin_region_ids_query(user)))
    return stmt.where(false())


# Events (liaison.events) --------------------------------------------------------------------

def visible_events_condition(user: User | None = None) -> ColumnElement:
    """SQL: the ``Event`` rows ``user`` may see — HQ every event; others those organised by a
    station in their scope, every event HQ organises (national events the stations promote and
    file contacts from), and the events of a region in their scope (a regional admin's regions;
    a volunteer's stations' regions). Seeing is not running: ``events.services.may_manage``."""
    from sqlalchemy import exists

    from .events.models import Event, EventStation, Organiser

    user = _user(user)
    if not getattr(user, "is_authenticated", False):
        return false()
    ids = visible_station_ids(user)
    if ids is None:
        return true()
    by_station = exists(select(EventStation.event_id).where(EventStation.event_id == Event.id,
                                                            EventStation.station_id.in_(ids)))
    if user.is_regional_admin:
        regions = _admin_region_ids_query(user)
    else:
        regions = select(Station.region_id).where(Station.id.in_(ids))
    by_region = (Event.organiser == Organiser.REGION) & Event.region_id.in_(regions)
    return or_(by_station, Event.organiser == Organiser.HQ, by_region)
