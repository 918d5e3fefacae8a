"""Accounts and regions, as admins and regional admins manage them."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select

from ..auth.services import normalise_email
from ..models import AuditEntry, Region, Role, Station, User, db


def temporary_password() -> str:
    return secrets.token_urlsafe(9)


def email_taken(email: str, user_id: int | None = None) -> bool:
    stmt = select(func.count()).select_from(User).where(func.lower(User.email) == normalise_email(email))
    if user_id:
        stmt = stmt.where(User.id != user_id)
    return bool(db.session.scalar(stmt))


def _audit(actor: User, action: str, user: User, **details) -> None:
    db.session.add(AuditEntry(actor_id=actor.id, action=action, object_type="user", object_id=user.id, details=details))


def _apply(user: User, data: dict, regions: list[Region], stations: list[Station]) -> None:
    user.name = data["name"]
    user.email = normalise_email(data["email"])
    user.role = Role(data["role"])
    user.regions = regions if user.role == Role.REGIONAL_ADMIN else []
    user.stations = stations if user.role == Role.VOLUNTEER else []


def create_user(data: dict, regions: list[Region], stations: list[Station], actor: User) -> tuple[User, str]:
    """A new account with a temporary password, to be changed at the first log-in."""
    user = User(regions=[], stations=[])
    _apply(user, data, regions, stations)
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    db.session.add(user)
    db.session.flush()
    _audit(actor, "user.create", user, role=user.role, email=user.email)
    db.session.commit()
    return user, password


def update_user(user: User, data: dict, regions: list[Region], stations: list[Station], actor: User) -> None:
    before = {"role": user.role, "email": user.email}
    _apply(user, data, regions, stations)
    _audit(actor, "user.update", user, before=before, after={"role": user.role, "email": user.email},
           regions=[r.code for r in user.regions], stations=[s.id for s in user.stations])
    db.session.commit()


def set_active(user: User, active: bool, actor: User) -> None:
    user.active = active
    user.end_sessions()  # ends the user's sessions at once
    _audit(actor, "user.activate" if active else "user.deactivate", user)
    db.session.commit()


def reset_password(user: User, actor: User) -> str:
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    _audit(actor, "user.password_reset", user)
    db.session.commit()
    return password


def create_region(data: dict, actor: User) -> Region:
    region = Region(code=data["code"], name=data["name"], name_zh=data.get("name_zh") or None)
    db.session.add(region)
    db.session.flush()
    db.session.add(AuditEntry(actor_id=actor.id, action="region.create", object_type="region",
                              object_id=region.id, region_id=region.id, details={"code": region.code}))
    db.session.commit()
    return region


def update_region(region: Region, data: dict, actor: User) -> None:
    region.code, region.name, region.name_zh = data["code"], data["name"], data.get("name_zh") or None
    db.session.add(AuditEntry(actor_id=actor.id, action="region.update", object_type="region",
                              object_id=region.id, region_id=region.id, details={"code": region.code}))
    db.session.commit()


def code_taken(code: str, region_id: int | None = None) -> bool:
    stmt = select(func.count()).select_from(Region).where(Region.code == code)
    if region_id:
        stmt = stmt.where(Region.id != region_id)
    return bool(db.session.scalar(stmt))
