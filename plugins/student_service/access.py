"""Who sees and serves a student: the station abroad (the core's scope: the station's
volunteers, its region's admins, HQ) **and** the student's home service team.

A home service team (``HomeTeam``) is a role-scoped group: its members see and act for the
students whose home it is — at every station where the plugin is on — without becoming members
of those stations. The grant is one SQL condition passed to the core's
``liaison.scope.scoped(..., also=...)`` / ``get_or_404(..., also=...)``; nothing here filters by
hand. For the workflows a team member is on the *home* side of its students' records (the core's
``Side.HQ``: referrals, roll-call marks), see ``workflow.sides_for``.
"""
from __future__ import annotations

from typing import Any

from flask import g
from flask_login import current_user
from sqlalchemy import ColumnElement, select

from liaison import scope
from liaison.models import User, db

from .choices import NAME
from .models import Student, team_members


def team_ids(user: User | None = None) -> frozenset[int]:
    """The home teams ``user`` belongs to (cached per request)."""
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cache = g.setdefault("_student_service_teams", {})
    if user.id not in cache:
        cache[user.id] = frozenset(db.session.scalars(
            select(team_members.c.team_id).where(team_members.c.user_id == user.id)))
    return cache[user.id]


def team_grant(model: Any, user: User | None = None) -> ColumnElement | None:
    """The records of ``model`` visible through the user's home teams, or ``None`` (no team, or HQ,
    who sees every record anyway: no query for its teams)."""
    if getattr(user if user is not None else current_user, "is_hq", False):
        return None
    teams = team_ids(user)
    if not teams:
        return None
    if model is Student:
        return Student.home_team_id.in_(teams)
    return model.student_id.in_(select(Student.id).where(Student.home_team_id.in_(teams)))


def scoped(stmt, model, user: User | None = None):
    """``liaison.scope.scoped`` for the plugin's student-linked records, with the team grant."""
    return scope.scoped(stmt, model, user, plugin=NAME, also=team_grant(model, user))


def get_or_404(model, ident, *options, user: User | None = None):
    return scope.get_or_404(model, ident, *options, user=user, plugin=NAME, also=team_grant(model, user))


def in_team(user: User, student: Student) -> bool:
    return student.home_team_id is not None and student.home_team_id in team_ids(user)


def may_manage(user: User | None = None) -> bool:
    """Who keeps the reference rows (the alliance's departments, the home service teams): HQ and
    admins, and the regional admins of a region where the plugin is on (at the region or at one
    of its stations)."""
    from liaison.plugins import activation

    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_hq:
        return True
    if not user.is_regional_admin:
        return False
    snapshot = activation.current()
    if any(snapshot.is_enabled(NAME, region_id=region_id) for region_id in scope.admin_region_ids(user)):
        return True
    return NAME in activation.active_for_user(user)


def manageable_user(user: User, manager: User | None = None) -> bool:
    """May ``manager`` add ``user`` to a team (or take them off)? HQ any account; a regional admin
    the accounts they manage (``liaison.scope.visible_users_query``)."""
    manager = manager if manager is not None else current_user
    if manager.is_hq:
        return True
    return db.session.scalar(scope.visible_users_query(manager).where(User.id == user.id)
                             .with_only_columns(User.id)) is not None


def manageable_ids(user_ids, manager: User | None = None) -> frozenset[int] | None:
    """Which of ``user_ids`` ``manager`` manages (one query); ``None``: all of them (HQ)."""
    manager = manager if manager is not None else current_user
    if manager.is_hq:
        return None
    if not user_ids:
        return frozenset()
    return frozenset(db.session.scalars(scope.visible_users_query(manager).where(User.id.in_(set(user_ids)))
                                        .with_only_columns(User.id)))
