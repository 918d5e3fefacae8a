"""Closed report periods: the figures HQ sent to the bureau, frozen (see ``liaison.reports``)."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow
from .lead import LeadEvent

if TYPE_CHECKING:
    from .user import User


class ReportPeriod(db.Model):
    """A period (a year, a quarter or a month) that HQ closed: the snapshot of its figures as they
    were when it was closed, who closed it and when. Reopening keeps the row (and its snapshot)
    with who reopened it; closing again replaces the snapshot."""

    __tablename__ = "report_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(10), unique=True)  # "2025", "2025-Q4", "2025-11"
    kind: Mapped[str] = mapped_column(String(10))  # year / quarter / month
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    closed: Mapped[bool] = mapped_column(default=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_at: Mapped[datetime | None]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id], lazy="raise")
    reopened_by: Mapped[User | None] = relationship(foreign_keys=[reopened_by_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<ReportPeriod {self.key} {'closed' if self.closed else 'open'}>"


# The report's times to first review, acceptance and landing read the first event reaching each
# status per lead: covered by this index (no event row is read).
_events = LeadEvent.__table__
Index("ix_lead_events_to_status", _events.c.to_status, _events.c.lead_id, _events.c.created_at)
