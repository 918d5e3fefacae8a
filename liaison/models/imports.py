"""Imports of spreadsheets (liaison.imports): one record per upload, with its rows' before-images.

An import is *staged* while the user maps columns and reviews the rows (the parsed rows are kept
here, server-side, never in the cookie), then *committed* in one transaction, and may later be
*reverted* (created contacts removed, updated ones restored) unless a later change would be lost.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow
from .choices import Labelled

if TYPE_CHECKING:
    from .station import Station
    from .user import User


class ImportStatus(Labelled):
    STAGED = "staged"
    COMMITTED = "committed"
    REVERTED = "reverted"
    DISCARDED = "discarded"

    @classmethod
    def _labels(cls):
        return {
            cls.STAGED: _l("Not yet imported"),
            cls.COMMITTED: _l("Imported"),
            cls.REVERTED: _l("Reverted"),
            cls.DISCARDED: _l("Discarded"),
        }


class ImportMode(Labelled):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"

    @classmethod
    def _labels(cls):
        return {
            cls.CREATE: _l("Create only: every row becomes a new contact"),
            cls.UPDATE: _l("Update matching: rows that match a contact update it, the others are created"),
            cls.SKIP: _l("Skip duplicates: rows that match a contact are left out"),
        }


class ImportBatch(db.Model):
    """One uploaded file imported (or being imported) into one station."""

    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_station_created", "station_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    record_type: Mapped[str] = mapped_column(String(60), default="contacts")
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.STAGED)
    mode: Mapped[str | None] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    committed_at: Mapped[datetime | None]
    reverted_at: Mapped[datetime | None]
    reverted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The file's header row, the column mapping (column index as text -> target field) and,
    # while staged, the parsed rows (lists of cell texts) and notices about the file.
    header: Mapped[list[Any]] = mapped_column(JSON, default=list)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows: Mapped[list[Any] | None] = mapped_column(JSON)
    notices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    total_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)

    station: Mapped[Station] = relationship(lazy="raise")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="raise")
    reverted_by: Mapped[User | None] = relationship(foreign_keys=[reverted_by_id], lazy="raise")

    @property
    def status_label(self):
        return ImportStatus.label_of(self.status)

    @property
    def mode_label(self):
        return ImportMode.label_of(self.mode) if self.mode else ""


class ImportRow(db.Model):
    """What one committed row did: the contact it created or updated, its values before (an
    update's before-image) and after (to tell whether someone changed it since)."""

    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_import_row", "import_id", "row_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))  # created, updated
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
