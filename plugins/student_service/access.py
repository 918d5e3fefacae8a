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
