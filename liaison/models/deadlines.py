"""Review deadlines set by HQ in the app (``/review/deadlines``), one row per lead status; a status
without a row keeps the configured default (``LEAD_DEADLINE_DAYS``,
``LEAD_DEADLINE_REMINDER_DAYS``). ``days = 0`` means no deadline for that status.

Also the index of the report's review-deadline figures (``liaison.reports.figures.on_time``).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow
from .choices import LeadStatus
from .lead import LeadEvent

if TYPE_CHECKING:
    from .user import User

MAX_DEADLINE_DAYS = 365


class LeadDeadline(db.Model):
    __tablename__ = "lead_deadlines"
    __table_args__ = (
        CheckConstraint("status IN ({})".format(", ".join(f"'{s.value}'" for s in LeadStatus)), name="status"),
        CheckConstraint(f"days >= 0 AND days <= {MAX_DEADLINE_DAYS}", name="days"),
        CheckConstraint("reminder_days >= 0 AND reminder_days <= days", name="reminder_days"),
    )

    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    days: Mapped[int] = mapped_column(default=0)
    reminder_days: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<LeadDeadline {self.status} {self.days}d>"


# Every stay in a status with the moment the lead's next status event ended it: one ordered pass
# over the status events (kind, lead, time) — covering, in the window's order.
_events = LeadEvent.__table__
Index("ix_lead_events_status_timeline", _events.c.kind, _events.c.lead_id, _events.c.created_at, _events.c.id,
      _events.c.to_status)
