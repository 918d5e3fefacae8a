"""Volunteer appointments (联络员聘任): a volunteer's term at a station."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow

if TYPE_CHECKING:
    from .station import Station
    from .user import User


class Appointment(db.Model):
    """One term of a volunteer at a station. A renewal is a new row; the history stays.

    ``ended_at`` is set by the daily job when the term ran out without a renewal and the
    volunteer's station membership was removed."""

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_user_station", "user_id", "station_id", "term_end"),
                      Index("ix_appointments_term_end", "term_end"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    appointed_on: Mapped[date]
    term_start: Mapped[date]
    term_end: Mapped[date]
    appointing_body: Mapped[str] = mapped_column(String(200))
    letter_number: Mapped[str | None] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
    station: Mapped[Station] = relationship(lazy="raise")
