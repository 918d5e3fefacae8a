"""Partnerships between a Chinese home institution and a European school, their timeline and
documents. Every table is prefixed ``europe_school_partnership_``.

``Partnership.station_id`` makes partnerships station-owned: the core's ``scoped`` and
``get_or_404`` protect them like the core's records. Events and documents are reached only
through their partnership. Relationships are ``lazy="raise"``: views load what they show with
``selectinload``, so a forgotten one fails in the tests instead of costing a query per row.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liaison.models import Base, Contact, Station, TimestampMixin, User, db, utcnow

from .choices import DocumentKind, EventKind, HomeKind, PartnerKind, ProgrammeKind, Stage

PREFIX = "europe_school_partnership_"

partnership_contacts = Table(
    PREFIX + "contacts",
    Base.metadata,
    Column("partnership_id", ForeignKey(PREFIX + "partnerships.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# Majors are typed as a free list; Chinese users separate with "，" or "、" as often as with ",".
_MAJOR_SEPARATORS = re.compile(r"[,，、;；\n]+")


def split_majors(text: str | None) -> list[str]:
    return [item.strip() for item in _MAJOR_SEPARATORS.split(text or "") if item.strip()]


class Partnership(TimestampMixin, db.Model):
    """A home institution and a European partner working toward (or running) a programme,
    brokered by one station. ``stage`` changes only through ``stages.apply_move``."""

    __tablename__ = PREFIX + "partnerships"
    __table_args__ = (
        Index("ix_europe_school_partnership_partnerships_station_stage", "station_id", "stage"),
        Index("ix_europe_school_partnership_partnerships_country_stage", "partner_country", "stage"),
        Index("ix_europe_school_partnership_partnerships_due", "next_step_due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))

    home_name: Mapped[str] = mapped_column(String(200))
    home_name_zh: Mapped[str | None] = mapped_column(String(200))
    home_kind: Mapped[str] = mapped_column(String(30), default=HomeKind.VOCATIONAL_COLLEGE)
    home_city: Mapped[str] = mapped_column(String(120))

    partner_name: Mapped[str] = mapped_column(String(200))
    partner_name_original: Mapped[str | None] = mapped_column(String(200))
    partner_country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    partner_city: Mapped[str | None] = mapped_column(String(120))
    partner_kind: Mapped[str] = mapped_column(String(30), default=PartnerKind.UNIVERSITY)

    programme_kind: Mapped[str] = mapped_column(String(30), index=True)
    majors: Mapped[str | None] = mapped_column(Text)  # a free list, stored "a, b, c"
    notes: Mapped[str | None] = mapped_column(Text)

    stage: Mapped[str] = mapped_column(String(20), default=Stage.FIRST_CONTACT)
    stage_since: Mapped[date]  # the date the user gave for the last move
    next_step: Mapped[str | None] = mapped_column(String(500))
    next_step_due: Mapped[date | None]

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Optimistic lock: two people moving or editing the same partnership cannot overwrite
    # each other silently.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    station: Mapped[Station] = relationship(lazy="raise")
    contacts: Mapped[list[Contact]] = relationship(
        secondary=partnership_contacts, lazy="raise", order_by=Contact.name
    )
    events: Mapped[list[PartnershipEvent]] = relationship(
        back_populates="partnership", lazy="raise", cascade="all, delete-orphan",
        order_by=lambda: [PartnershipEvent.happened_on, PartnershipEvent.id],
    )
    documents: Mapped[list[PartnershipDocument]] = relationship(
        back_populates="partnership", lazy="raise", cascade="all, delete-orphan",
        order_by=lambda: [PartnershipDocument.signed_on.desc().nulls_last(), PartnershipDocument.id.desc()],
    )
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Partnership {self.id} {self.home_name} ↔ {self.partner_name} {self.stage}>"

    # Display helpers used by the templates ---------------------------------------------
    @property
    def stage_enum(self) -> Stage:
        return Stage(self.stage)

    @property
    def stage_label(self):
        return Stage.label_of(self.stage)

    @property
    def stage_badge(self) -> str:
        return self.stage_enum.badge

    @property
    def is_closed(self) -> bool:
        return self.stage_enum.is_closed

    @property
    def programme_label(self):
        return ProgrammeKind.label_of(self.programme_kind)

    @property
    def home_kind_label(self):
        return HomeKind.label_of(self.home_kind)

    @property
    def partner_kind_label(self):
        return PartnerKind.label_of(self.partner_kind)

    @property
    def major_list(self) -> list[str]:
        return split_majors(self.majors)

    def is_overdue(self, today: date) -> bool:
        return bool(self.next_step_due and self.next_step_due < today and not self.is_closed)


class PartnershipEvent(db.Model):
    """One line of a partnership's timeline. ``happened_on`` is the date the user gave (a
    signing may be recorded days later); ``created_at`` is when it was recorded."""

    __tablename__ = PREFIX + "events"
    __table_args__ = (Index("ix_europe_school_partnership_events_partnership", "partnership_id", "happened_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "partnerships.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    happened_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(20))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None]  # for "next step" events

    partnership: Mapped[Partnership] = relationship(back_populates="events", lazy="raise")
    actor: Mapped[User | None] = relationship(lazy="raise")

    @property
    def kind_label(self):
        return EventKind.label_of(self.kind)

    @property
    def from_label(self):
        return Stage.label_of(self.from_stage)

    @property
    def to_label(self):
        return Stage.label_of(self.to_stage)


class PartnershipDocument(db.Model):
    """What was signed and when — metadata only, no file is stored."""

    __tablename__ = PREFIX + "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey(PREFIX + "partnerships.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=DocumentKind.OTHER)
    title: Mapped[str] = mapped_column(String(300))
    signed_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partnership: Mapped[Partnership] = relationship(back_populates="documents", lazy="raise")

    @property
    def kind_label(self):
        return DocumentKind.label_of(self.kind)
