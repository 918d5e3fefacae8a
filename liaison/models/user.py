from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Base, db, utcnow
from .choices import Role

if TYPE_CHECKING:
    from .station import Region, Station

station_membership = Table(
    "station_memberships",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("station_id", ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True, index=True),
)

region_admin = Table(
    "region_admins",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True, index=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # always stored lower-case
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # A random token that is part of the session id: replaced on log-out, password change,
    # reset and deactivation, so every earlier session cookie of the user stops working at once.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    stations: Mapped[list[Station]] = relationship(
        secondary=station_membership, back_populates="members", lazy="raise", order_by="Station.name"
    )
    regions: Mapped[list[Region]] = relationship(
        secondary=region_admin, back_populates="admins", lazy="raise", order_by="Region.code"
    )

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"

    # Flask-Login -----------------------------------------------------------------------
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Make every session cookie issued so far useless (the caller commits)."""
        self.session_token = new_session_token()

    # Passwords ---------------------------------------------------------------------------
    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    # Roles -----------------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_hq(self) -> bool:
        """HQ reviewers and admins see every record and make HQ's moves on leads."""
        return self.role in (Role.HQ_REVIEWER, Role.ADMIN)

    @property
    def is_regional_admin(self) -> bool:
        return self.role == Role.REGIONAL_ADMIN

    @property
    def is_volunteer(self) -> bool:
        return self.role == Role.VOLUNTEER
