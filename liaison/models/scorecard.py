"""The yearly station scorecard's weights (站点年度考核): HQ sets them per year; every change is
audited (``AuditEntry`` action ``scorecard.weights`` with the weights before and after)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow
from .contact import Contact

if TYPE_CHECKING:
    from .user import User


class ScorecardWeights(db.Model):
    """The weights of one year's scorecard: ``{figure key: weight}`` (see ``liaison.scorecard``)."""

    __tablename__ = "scorecard_weights"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<ScorecardWeights {self.year}>"


# The scorecard counts contacts added per station in a year; the volunteer's home page, the
# contacts they added this month.
_contacts = Contact.__table__
Index("ix_contacts_station_created", _contacts.c.station_id, _contacts.c.created_at)
Index("ix_contacts_creator_created", _contacts.c.created_by_id, _contacts.c.created_at)
