from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..search import keep_search_text, lead_search_text
from .base import TimestampMixin, db, utcnow
from .choices import LeadStatus, Priority

if TYPE_CHECKING:
    from .attachment import LeadAttachment
    from .contact import Contact
    from .station import Station
    from .user import User


class TalentLead(TimestampMixin, db.Model):
    """A talent lead (人才线索) about one contact, submitted by a station to HQ.

    ``status`` only changes through ``liaison.leads.workflow``; ``version`` is SQLAlchemy's
    optimistic lock, so two reviewers saving the same lead cannot overwrite each other.
    """

    __tablename__ = "leads"
    __table_args__ = (
        # Every list sort and filter has an index (checked by tests/test_indexes.py); the
        # indexes over submitted_at are declared after the class.
        Index("ix_leads_updated", "updated_at", "id"),
        Index("ix_leads_station_updated", "station_id", "updated_at", "id"),
        Index("ix_leads_station_status", "station_id", "status"),
        Index("ix_leads_reviewer_status", "reviewer_id", "status"),
        # Covers every query of the HQ report (liaison.review.services.build_report), in the order
        # of its GROUP BY: the report counts 100,000 leads without reading a row.
        Index("ix_leads_report", "status", "station_id", "category", "submitted_at", "landing_kind", "landed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    category: Mapped[str] = mapped_column(String(30), index=True)
    field: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    wants: Mapped[str | None] = mapped_column(Text)
    offer: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(default=Priority.NORMAL)
    status: Mapped[str] = mapped_column(String(20), default=LeadStatus.DRAFT)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    referral_target: Mapped[str | None] = mapped_column(String(200))
    landed_on: Mapped[date | None]
    landing_kind: Mapped[str | None] = mapped_column(String(30))
    landing_note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    # Summary and field folded for search (liaison.search), kept up to date on every flush.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The event the lead came from (``liaison.events``), if any.
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    # The demand the lead came from (``liaison.demands``: an intent signed on a match), if any.
    source_demand_id: Mapped[int | None] = mapped_column(ForeignKey("demands.id", ondelete="SET NULL"), index=True)

    __mapper_args__ = {"version_id_col": version}

    contact: Mapped[Contact] = relationship(back_populates="leads", lazy="raise")
    station: Mapped[Station] = relationship(lazy="raise")
    submitter: Mapped[User | None] = relationship(foreign_keys=[submitter_id], lazy="raise")
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id], lazy="raise")
    events: Mapped[list[LeadEvent]] = relationship(
        back_populates="lead", lazy="raise", order_by="LeadEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[LeadAttachment]] = relationship(
        back_populates="lead", lazy="raise", order_by="LeadAttachment.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<TalentLead {self.id} {self.status}>"

    @property
    def status_enum(self) -> LeadStatus:
        return LeadStatus(self.status)


keep_search_text(TalentLead, lambda lead: lead_search_text(lead.summary, lead.field))


class _NullsFirst(ColumnElement):
    """An index column with NULLs first: SQLite sorts NULLs first anyway and has no syntax for it."""

    inherit_cache = True

    def __init__(self, column) -> None:
        self.column = column
        self.type = column.type

    def get_children(self, **kw):
        return (self.column,)


@compiles(_NullsFirst)
def _nulls_first(element, compiler, **kw) -> str:
    return compiler.process(element.column, **kw) + " NULLS FIRST"


@compiles(_NullsFirst, "sqlite")
def _nulls_first_sqlite(element, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


# The sorts put drafts (no submission date) last: "submitted_at DESC NULLS LAST, id DESC" is a
# backward scan of (submitted_at NULLS FIRST, id) on PostgreSQL and of (submitted_at, id) on
# SQLite, where NULLs sort first anyway.
_leads = TalentLead.__table__
Index("ix_leads_submitted", _NullsFirst(_leads.c.submitted_at), _leads.c.id)
Index("ix_leads_status_submitted", _leads.c.status, _NullsFirst(_leads.c.submitted_at), _leads.c.id)
Index("ix_leads_station_submitted", _leads.c.station_id, _NullsFirst(_leads.c.submitted_at), _leads.c.id)
Index("ix_leads_priority_submitted", _leads.c.priority, _NullsFirst(_leads.c.submitted_at), _leads.c.id)

# Few leads come from an event or a demand: partial indexes over just those serve the report's
# "leads from events / demands" figures (``source_… IS NOT NULL``) on both databases, where the
# plain index's statistics (one value, NULL, for almost every row) lead the planner to a full scan.
_from_demand = _leads.c.source_demand_id.is_not(None)
_from_event = _leads.c.source_event_id.is_not(None)
Index("ix_leads_from_demand", _leads.c.source_demand_id, _leads.c.station_id, _leads.c.created_at,
      sqlite_where=_from_demand, postgresql_where=_from_demand)
Index("ix_leads_from_event", _leads.c.source_event_id, _leads.c.station_id, _leads.c.status,
      sqlite_where=_from_event, postgresql_where=_from_event)


class LeadEvent(db.Model):
    """One entry of a lead's timeline: a status change, a comment, an edit or an assignment."""

    __tablename__ = "lead_events"
    __table_args__ = (Index("ix_lead_events_lead_created", "lead_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)

    lead: Mapped[TalentLead] = relationship(back_populates="events", lazy="raise")
    actor: Mapped[User | None] = relationship(lazy="raise")
