"""Demands (需求) from enterprises, parks, institutions and departments at home, and their matches
(对接) with talent in the stations' networks.

* ``Demand`` — what an organisation at home is looking for; its fields (``demand_fields``) and
  the regions whose stations it is presented to (``demand_regions``) are rows. Its contact
  person (name, phone, e-mail) is personal data (``liaison.privacy.classification``).
* ``DemandMatch`` — a demand ↔ a contact (and perhaps one of the contact's leads), moved through
  its stages by HQ; ``DemandMatchEvent`` is its timeline (who, when, from → to, a note).

Status and stage only change through ``liaison.demands.services`` (the workflows there).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models.base import TimestampMixin, db, utcnow
from ..models.choices import Labelled
from ..search import fold, keep_search_text

if TYPE_CHECKING:
    from ..models import Contact, Region, Station, TalentLead, User


def _one_of(column: str, enum: type[Labelled], name: str) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name)


class DemandSource(Labelled):
    """Who at home has the demand."""

    ENTERPRISE = "enterprise"
    PARK = "park"
    INSTITUTION = "institution"
    DEPARTMENT = "department"

    @classmethod
    def _labels(cls):
        return {cls.ENTERPRISE: _l("Enterprise"), cls.PARK: _l("Industrial or creative park"),
                cls.INSTITUTION: _l("University or research institution"),
                cls.DEPARTMENT: _l("Government department")}


class DemandKind(Labelled):
    HIRE = "hire"
    PROJECT_COOPERATION = "project_cooperation"
    EXPERT_CONSULTATION = "expert_consultation"
    JOINT_RND = "joint_rnd"
    TRAINING = "training"
    INVESTMENT = "investment"

    @classmethod
    def _labels(cls):
        return {cls.HIRE: _l("Hire"), cls.PROJECT_COOPERATION: _l("Project cooperation"),
                cls.EXPERT_CONSULTATION: _l("Expert consultation"), cls.JOINT_RND: _l("Joint R&D"),
                cls.TRAINING: _l("Training"), cls.INVESTMENT: _l("Investment")}


class DemandStatus(Labelled):
    OPEN = "open"
    MATCHING = "matching"
    MATCHED = "matched"
    CLOSED = "closed"

    @classmethod
    def _labels(cls):
        return {cls.OPEN: _l("Open"), cls.MATCHING: _l("Matching"), cls.MATCHED: _l("Matched"),
                cls.CLOSED: _l("Closed")}


class MatchStage(Labelled):
    INTRODUCED = "introduced"
    MEETING_HELD = "meeting_held"
    INTENT_SIGNED = "intent_signed"
    LANDED = "landed"
    DROPPED = "dropped"

    @classmethod
    def _labels(cls):
        return {cls.INTRODUCED: _l("Introduced"), cls.MEETING_HELD: _l("Meeting held"),
                cls.INTENT_SIGNED: _l("Intent signed"), cls.LANDED: _l("Landed"), cls.DROPPED: _l("Dropped")}


# A demand talent can still be found for: volunteers see these (of their stations' regions), and
# the contact page suggests them.
ACTIVE_STATUSES = (DemandStatus.OPEN.value, DemandStatus.MATCHING.value)
FIELD_LENGTH = 100


class Demand(TimestampMixin, db.Model):
    """A demand from an organisation at home, presented to the stations of its target regions."""

    __tablename__ = "demands"
    __table_args__ = (
        _one_of("source_kind", DemandSource, "source_kind"),
        _one_of("kind", DemandKind, "kind"),
        _one_of("status", DemandStatus, "status"),
        # The list's sort (newest first), alone or by status / kind.
        Index("ix_demands_created", "created_at", "id"),
        Index("ix_demands_status_created", "status", "created_at", "id"),
        Index("ix_demands_kind_created", "kind", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    source_kind: Mapped[str] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(120))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(30))
    requirements: Mapped[str] = mapped_column(Text)
    salary_range: Mapped[str | None] = mapped_column(String(100))
    funding: Mapped[str | None] = mapped_column(String(200))
    policy_support: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default=DemandStatus.OPEN.value)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Title, organisation, requirements and fields folded for the list's search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    created_by: Mapped[User | None] = relationship(lazy="raise")
    field_rows: Mapped[list[DemandField]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True, order_by="DemandField.position")
    region_rows: Mapped[list[DemandRegion]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True)
    matches: Mapped[list[DemandMatch]] = relationship(back_populates="demand", lazy="raise",
                                                      order_by="DemandMatch.id")

    def __repr__(self) -> str:
        return f"<Demand {self.id} {self.status}>"

    @property
    def field_list(self) -> list[str]:
        """Needs ``field_rows`` loaded (selectinload)."""
        return [row.field for row in self.field_rows]

    @property
    def region_ids(self) -> list[int]:
        return sorted(row.region_id for row in self.region_rows)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def _demand_search_text(demand: Demand) -> str:
    from sqlalchemy import inspect

    parts = [demand.title, demand.organisation, demand.city, demand.requirements]
    if "field_rows" in inspect(demand).dict:
        parts += [row.field for row in demand.field_rows]
    return "\n".join(f for f in (fold(p) for p in parts) if f)


keep_search_text(Demand, _demand_search_text)


class DemandField(db.Model):
    """One field of a demand (``demand_fields``), as typed, and folded for matching."""

    __tablename__ = "demand_fields"
    __table_args__ = (Index("ix_demand_fields_folded", "folded", "demand_id"),)

    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(FIELD_LENGTH), primary_key=True)
    folded: Mapped[str] = mapped_column(String(FIELD_LENGTH))
    position: Mapped[int] = mapped_column(default=0)


class DemandRegion(db.Model):
    """A region whose stations the demand is presented to (``demand_regions``)."""

    __tablename__ = "demand_regions"
    __table_args__ = (Index("ix_demand_regions_region", "region_id", "demand_id"),)

    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True)

    region: Mapped[Region] = relationship(lazy="raise")


class DemandMatch(TimestampMixin, db.Model):
    """A demand matched to a contact (and perhaps one of the contact's leads). Station-owned
    through the contact's station (``station_id``), so ``liaison.scope`` applies."""

    __tablename__ = "demand_matches"
    __table_args__ = (
        _one_of("stage", MatchStage, "stage"),
        UniqueConstraint("demand_id", "contact_id", name="uq_demand_matches_demand_contact"),
        Index("ix_demand_matches_contact", "contact_id", "demand_id"),
        Index("ix_demand_matches_station_stage", "station_id", "stage"),
        Index("ix_demand_matches_stage_changed", "stage", "stage_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="SET NULL"), index=True)
    # The matchmaking event (``liaison.events``) where the match was made, if any.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=MatchStage.INTRODUCED.value)
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    demand: Mapped[Demand] = relationship(back_populates="matches", lazy="raise")
    contact: Mapped[Contact] = relationship(lazy="raise")
    station: Mapped[Station] = relationship(lazy="raise")
    lead: Mapped[TalentLead | None] = relationship(lazy="raise")
    created_by: Mapped[User | None] = relationship(lazy="raise")
    events: Mapped[list[DemandMatchEvent]] = relationship(
        back_populates="match", lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by="DemandMatchEvent.id")

    def __repr__(self) -> str:
        return f"<DemandMatch {self.id} {self.stage}>"


class DemandMatchEvent(db.Model):
    """One entry of a match's timeline: recorded, or moved from one stage to another."""

    __tablename__ = "demand_match_events"
    __table_args__ = (Index("ix_demand_match_events_match", "match_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("demand_matches.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    match: Mapped[DemandMatch] = relationship(back_populates="events", lazy="raise")
    actor: Mapped[User | None] = relationship(lazy="raise")


# Demands presented at an event (a matchmaking event 对接会 ties demands and talent together).
event_demands = Table(
    "event_demands",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("demand_id", ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_event_demands_demand", "demand_id", "event_id"),
)
