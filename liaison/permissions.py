"""What a user may *do* (403 when not), as opposed to what they may *see* (``scope``)."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort
from flask_login import current_user, login_required

from .models import Role, Station, User
from .scope import admin_region_ids, member_station_ids


def roles_required(*roles: str) -> Callable:
    """View decorator: log-in required, then one of ``roles`` (admins always pass)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role != Role.ADMIN and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def administers_region(user: User, region_id: int | None) -> bool:
    if user.is_admin:
        return True
    return user.is_regional_admin and region_id in admin_region_ids(user)


def can_manage_station(user: User, station: Station) -> bool:
    """Edit the station, change its status and its membership."""
    return administers_region(user, station.region_id)


def acts_for_station(user: User, station: Station) -> bool:
    """Speaks for the station: records contacts and leads and makes the station's lead moves.

    Only while the station is active: suspended and closed stations are read-only.
    """
    if not station.is_active:
        return False
    if user.is_volunteer:
        return station.id in member_station_ids(user)
    return administers_region(user, station.region_id)


def can_manage_users(user: User) -> bool:
    return user.is_admin or user.is_regional_admin
