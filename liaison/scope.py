"""Which records a user may see — decided here, once, in the query layer.

Every list, search, count and by-id lookup of station-owned data goes through these
functions, so a volunteer never sees another station's people and a regional admin nothing of
another region. Out-of-scope records are reported as 404 by ``get_or_404``: existence does not
leak.

A model is station-owned when it has a ``station_id`` column (or names another column in
``__scope_station_column__``); ``Station`` itself is scoped by its id. Plugins' models follow
the same rule and get the same protection.
"""
from __future__ import annotations

from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, false, select, true

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


def scoped(stmt: Select, model: Any, user: User | None = None) -> Select:
    """Restrict ``stmt`` (a select over ``model``) to the records the user may see."""
    return stmt.where(station_filter(station_column(model), user))


def get_or_404(model: type[M], ident: Any, *options: Any, user: User | None = None) -> M:
    """Load one station-owned record in the user's scope, or answer 404."""
    ident = parse_id(ident)
    if ident is None:
        abort(404)
    stmt = scoped(select(model).where(model.id == ident), model, user).options(*options)
    record = db.session.scalar(stmt)
    if record is None:
        abort(404)
    return record


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
