"""The alliance's members (with their renewals and contact persons), framework agreements among
several parties (parties, areas, documents, milestones, timeline) and the qualification
recognition catalogue. Every table is prefixed ``skills_alliance_``.

Members, agreements and recognitions are station-owned (``station_id``): the core's ``scoped``
and ``get_or_404`` protect them like the core's records, restricted to the stations where the
plugin is on. Lists are rows (parties, areas, contact persons, renewals), never delimited text;
every vocabulary is a CHECK constraint. Relationships are ``lazy="raise"``.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liaison.models import Base, Contact, Station, TimestampMixin, User, db, utcnow
from liaison.search import fold, keep_search_text

from .choices import (
    EDITED_FIELDS,
    AgreementKind,
    Area,
    DocumentKind,
    DomesticKind,
    EventKind,
    Level,
    MemberKind,
    MemberStatus,
    Status,
)

PREFIX = "skills_alliance_"


def one_of(column: str, enum, name: str | None = None) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name or column)


member_contacts = Table(
    PREFIX + "member_contacts",
    Base.metadata,
    Column("member_id", ForeignKey(PREFIX + "members.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Member(TimestampMixin, db.Model):
    """An institution of the alliance (a technician college, an enterprise, an HR service agency),
    followed by one station."""

    __tablename__ = PREFIX + "members"
    __table_args__ = (
        one_of("kind", MemberKind),
        one_of("status", MemberStatus),
        Index("ix_skills_alliance_members_station_country", "station_id", "country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    kind: Mapped[str] = mapped_column(String(30))
    joined_on: Mapped[date]
    certificate_no: Mapped[str] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=MemberStatus.ACTIVE)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    station: Mapped[Station] = relationship(lazy="raise")
    contacts: Mapped[list[Contact]] = relationship(secondary=member_contacts, lazy="raise", order_by=Contact.name)
    renewals: Mapped[list[Renewal]] = relationship(
        back_populates="member", lazy="raise", cascade="all, delete-orphan",
        order_by=lambda: Renewal.renewed_on.desc())

    @property
    def display(self) -> str:
        return self.name_zh or self.name

    @property
    def valid_until(self) -> date | None:
        """The end of the latest renewal (``renewals`` loaded); ``None``: never renewed, open."""
        return max((renewal.valid_until for renewal in self.renewals), default=None)

    @property
    def kind_label(self):
        return MemberKind.label_of(self.kind)

    @property
    def status_label(self):
        return MemberStatus.label_of(self.status)


class Renewal(db.Model):
    """One renewal of a membership: the certificate renewed on a day, valid until another."""

    __tablename__ = PREFIX + "renewals"
    __table_args__ = (CheckConstraint("valid_until > renewed_on", name="dates"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "members.id", ondelete="CASCADE"), index=True)
    renewed_on: Mapped[date]
    valid_until: Mapped[date]
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship(back_populates="renewals", lazy="raise")


class Agreement(TimestampMixin, db.Model):
    """A framework agreement (框架合作协议) among two or more parties, recorded by one station.
    ``status`` changes only through ``lifecycle.apply_move``."""

    __tablename__ = PREFIX + "agreements"
    __table_args__ = (
        one_of("kind", AgreementKind),
        one_of("status", Status),
        Index("ix_skills_alliance_agreements_station_status", "station_id", "status"),
        Index("ix_skills_alliance_agreements_valid_until", "valid_until"),
        Index("ix_skills_alliance_agreements_updated", "updated_at", "id"),  # the list's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=Status.PROPOSED)
    status_since: Mapped[date]
    signed_on: Mapped[date | None]
    valid_until: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    station: Mapped[Station] = relationship(lazy="raise")
    parties: Mapped[list[Party]] = relationship(
        back_populates="agreement", lazy="raise", cascade="all, delete-orphan", order_by=lambda: Party.id)
    areas: Mapped[list[AgreementArea]] = relationship(
        back_populates="agreement", lazy="raise", cascade="all, delete-orphan", order_by=lambda: AgreementArea.area)
    documents: Mapped[list[Document]] = relationship(
        back_populates="agreement", lazy="raise", cascade="all, delete-orphan", order_by=lambda: Document.id)
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="agreement", lazy="raise", cascade="all, delete-orphan",
        order_by=lambda: [Milestone.due_on, Milestone.id])
    events: Mapped[list[AgreementEvent]] = relationship(
        back_populates="agreement", lazy="raise", cascade="all, delete-orphan",
        order_by=lambda: [AgreementEvent.happened_on, AgreementEvent.id])

    @property
    def kind_label(self):
        return AgreementKind.label_of(self.kind)

    @property
    def status_label(self):
        return Status.label_of(self.status)

    @property
    def status_badge(self) -> str:
        return Status(self.status).badge


class Party(db.Model):
    """A party to an agreement: a member of the alliance, or a home institution by name."""

    __tablename__ = PREFIX + "parties"
    __table_args__ = (
        CheckConstraint("(member_id IS NULL) <> (home_institution IS NULL)", name="member_or_home"),
        UniqueConstraint("agreement_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "agreements.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey(PREFIX + "members.id"), index=True)
    home_institution: Mapped[str | None] = mapped_column(String(200))

    agreement: Mapped[Agreement] = relationship(back_populates="parties", lazy="raise")
    member: Mapped[Member | None] = relationship(lazy="raise")

    @property
    def display(self) -> str:
        return self.member.display if self.member_id else (self.home_institution or "")


class AgreementArea(db.Model):
    __tablename__ = PREFIX + "areas"
    __table_args__ = (one_of("area", Area),)

    agreement_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "agreements.id", ondelete="CASCADE"),
                                              primary_key=True)
    area: Mapped[str] = mapped_column(String(30), primary_key=True)

    agreement: Mapped[Agreement] = relationship(back_populates="areas", lazy="raise")

    @property
    def label(self):
        return Area.label_of(self.area)


class Document(db.Model):
    """A document of an agreement — metadata and a link, no file is stored."""

    __tablename__ = PREFIX + "documents"
    __table_args__ = (one_of("kind", DocumentKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "agreements.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    signed_on: Mapped[date | None]
    url: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="documents", lazy="raise")

    @property
    def kind_label(self):
        return DocumentKind.label_of(self.kind)


class Milestone(db.Model):
    """A milestone of an agreement, due on a day; ``done_on`` once completed."""

    __tablename__ = PREFIX + "milestones"
    __table_args__ = (Index("ix_skills_alliance_milestones_agreement_due", "agreement_id", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "agreements.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(index=True)
    done_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="milestones", lazy="raise")

    def is_overdue(self, today: date) -> bool:
        return self.done_on is None and self.due_on < today

    @property
    def on_time(self) -> bool | None:
        return None if self.done_on is None else self.done_on <= self.due_on


class AgreementEvent(db.Model):
    """One line of an agreement's timeline."""

    __tablename__ = PREFIX + "events"
    __table_args__ = (
        one_of("kind", EventKind),
        Index("ix_skills_alliance_events_agreement", "agreement_id", "happened_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "agreements.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    happened_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)

    agreement: Mapped[Agreement] = relationship(back_populates="events", lazy="raise")
    actor: Mapped[User | None] = relationship(lazy="raise")

    @property
    def kind_label(self):
        return EventKind.label_of(self.kind)

    @property
    def text_display(self) -> str | None:
        """``text`` as shown: an edit's field names translated, any other text as written."""
        if self.kind == EventKind.EDITED and self.text:
            return ", ".join(str(EDITED_FIELDS.get(name, name)) for name in self.text.split(", "))
        return self.text

    @property
    def from_label(self):
        return Status.label_of(self.from_status)

    @property
    def to_label(self):
        return Status.label_of(self.to_status)


class Recognition(TimestampMixin, db.Model):
    """One entry of the recognition catalogue: an international qualification and the domestic
    qualification or professional title it is recognised as, with its source document."""

    __tablename__ = PREFIX + "recognitions"
    __table_args__ = (
        one_of("domestic_kind", DomesticKind),
        one_of("domestic_level", Level),
        Index("ix_skills_alliance_recognitions_station_country", "station_id", "issuing_country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    issuing_country: Mapped[str] = mapped_column(String(2))
    issuing_body: Mapped[str] = mapped_column(String(200))
    name_original: Mapped[str] = mapped_column(String(300))
    name_zh: Mapped[str] = mapped_column(String(300))
    level: Mapped[str | None] = mapped_column(String(100))  # the level as the issuer names it
    domestic_kind: Mapped[str] = mapped_column(String(20))
    domestic_name: Mapped[str] = mapped_column(String(300))
    domestic_level: Mapped[str] = mapped_column(String(20))
    source_document: Mapped[str] = mapped_column(String(300))
    source_date: Mapped[date]
    # Both names, the issuer and the domestic name, folded (``liaison.search.fold``), one per line.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    station: Mapped[Station] = relationship(lazy="raise")

    @property
    def domestic_kind_label(self):
        return DomesticKind.label_of(self.domestic_kind)

    @property
    def domestic_level_label(self):
        return Level.label_of(self.domestic_level)


def recognition_search_text(record: Recognition) -> str:
    return "\n".join(fold(part) for part in (record.name_original, record.name_zh, record.issuing_body,
                                             record.domestic_name) if part)


keep_search_text(Recognition, recognition_search_text)
