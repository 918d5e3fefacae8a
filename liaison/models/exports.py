"""Export records: every spreadsheet that left the app — who, when, what, with which filters,
how many rows, in which format — and how many rows of each station (``liaison.exports``)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow

if TYPE_CHECKING:
    from .user import User


class ExportRecord(db.Model):
    """One export. ``rows`` is ``None`` while the file is still being streamed (or when the
    download was broken off before the end); ``finished_at`` is set with the final count."""

    __tablename__ = "export_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    what: Mapped[str] = mapped_column(String(40))  # "leads", "contacts"
    format: Mapped[str] = mapped_column(String(10))  # "csv", "xlsx"
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows: Mapped[int | None]
    finished_at: Mapped[datetime | None]

    user: Mapped[User | None] = relationship(lazy="raise")
    stations: Mapped[list[ExportStation]] = relationship(
        back_populates="export", lazy="raise", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (Index("ix_export_records_created", "created_at", "id"),)

    def __repr__(self) -> str:
        return f"<ExportRecord {self.id} {self.what}.{self.format}>"


class ExportStation(db.Model):
    """How many rows of one station an export let out (regional admins see their stations')."""

    __tablename__ = "export_stations"
    __scope_station_column__ = "station_id"

    export_id: Mapped[int] = mapped_column(ForeignKey("export_records.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True, index=True)
    rows: Mapped[int] = mapped_column(default=0)

    export: Mapped[ExportRecord] = relationship(back_populates="stations", lazy="raise")
