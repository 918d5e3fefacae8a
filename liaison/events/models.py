"""Events (活动): symposiums, matchmaking, roadshows, summer camps … organised by HQ, a region or
one or more stations; the people invited and registered, their check-in at the door.

Not to be confused with ``TalentLead.events`` (``LeadEvent``), a lead's *timeline*.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models.base import TimestampMixin, db, utcnow
from ..models.choices import Labelled
from ..search import fold

if TYPE_CHECKING:
    from ..models import Contact, Station


def _one_of(column: str, enum: type[Labelled], name: str) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name)


def new_slug() -> str:
    return secrets.token_urlsafe(12)  # 16 characters: the public registration page's address


def new_token() -> str:
    return secrets.token_urlsafe(18)  # 24 characters: a registration's confirmation page and QR


class Organiser(Labelled):
    HQ = "hq"
    REGION = "region"
    STATIONS = "stations"

    @classmethod
    def _labels(cls):
        return {cls.HQ: _l("HQ"), cls.REGION: _l("A region"), cls.STATIONS: _l("One or more stations")}


class EventStatus(Labelled):
    PLANNED = "planned"
    REGISTRATION_OPEN = "registration_open"
    REGISTRATION_CLOSED = "registration_closed"
    HELD = "held"
    FIGURES_RECORDED = "figures_recorded"
    CANCELLED = "cancelled"

    @classmethod
    def _labels(cls):
        return {
            cls.PLANNED: _l("Planned"),
            cls.REGISTRATION_OPEN: _l("Registration open"),
            cls.REGISTRATION_CLOSED: _l("Registration closed"),
            cls.HELD: _l("Held"),
            cls.FIGURES_RECORDED: _l("Figures recorded"),
            cls.CANCELLED: _l("Cancelled"),
        }


class AttendanceStatus(Labelled):
    """One person's status for one event."""

    INVITED = "invited"
    REGISTERED = "registered"
    DECLINED = "declined"
    ATTENDED = "attended"
    NO_SHOW = "no_show"

    @classmethod
    def _labels(cls):
        return {
            cls.INVITED: _l("Invited"),
            cls.REGISTERED: _l("Registered"),
            cls.DECLINED: _l("Declined"),
            cls.ATTENDED: _l("Attended"),
            cls.NO_SHOW: _l("No-show"),
        }


# The statuses that hold one of the event's seats (``Event.seats_taken``).
SEAT_STATUSES = frozenset({AttendanceStatus.REGISTERED, AttendanceStatus.ATTENDED, AttendanceStatus.NO_SHOW})


class RegistrationSource(Labelled):
    INVITATION = "invitation"
    PUBLIC = "public"
    WALK_IN = "walk_in"

    @classmethod
    def _labels(cls):
        return {cls.INVITATION: _l("Invitation"), cls.PUBLIC: _l("Public registration"),
                cls.WALK_IN: _l("Walk-in")}


class Event(TimestampMixin, db.Model):
    """An event; its organising stations are rows (``EventStation``)."""

    __tablename__ = "events"
    __table_args__ = (
        _one_of("status", EventStatus, "status"),
        _one_of("organiser", Organiser, "organiser"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity"),
        CheckConstraint("seats_taken >= 0", name="seats_taken"),
        Index("ix_events_starts", "starts_at", "id"),
        Index("ix_events_status_starts", "status", "starts_at", "id"),
        Index("ix_events_kind_starts", "kind", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True, default=new_slug)
    kind: Mapped[str] = mapped_column(String(60))  # core kinds and plugins' (``liaison.events.kinds``)
    organiser: Mapped[str] = mapped_column(String(20), default=Organiser.STATIONS)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime]  # naive UTC, shown in ``timezone``
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    venue: Mapped[str | None] = mapped_column(String(300))
    online_link: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    capacity: Mapped[int | None]
    # Seats held by registrations (registered, attended, no-show): changed only by one
    # conditional UPDATE, so the last seat goes to one registration on both databases.
    seats_taken: Mapped[int] = mapped_column(default=0)
    registration_opens_at: Mapped[datetime | None]
    registration_closes_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(30), default=EventStatus.PLANNED)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # After the event: participants counted at the door (registered or not) and notes.
    participants: Mapped[int | None]
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    organising: Mapped[list[EventStation]] = relationship(
        back_populates="event", lazy="raise", cascade="all, delete-orphan", order_by="EventStation.station_id")
    target_fields: Mapped[list[EventTargetField]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="EventTargetField.position")
    partners: Mapped[list[EventPartner]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="EventPartner.position")
    photo_links: Mapped[list[EventPhotoLink]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="EventPhotoLink.position")

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.status}>"

    @property
    def station_ids(self) -> list[int]:
        return [row.station_id for row in self.organising]


class EventStation(db.Model):
    """A station organising an event (an event may have several)."""

    __tablename__ = "event_stations"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)

    event: Mapped[Event] = relationship(back_populates="organising", lazy="raise")
    station: Mapped[Station] = relationship(lazy="raise")


class EventTargetField(db.Model):
    __tablename__ = "event_target_fields"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    field: Mapped[str] = mapped_column(String(200))


class EventPartner(db.Model):
    __tablename__ = "event_partners"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class EventPhotoLink(db.Model):
    __tablename__ = "event_photo_links"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))


class EventRegistration(db.Model):
    """One person for one event: invited, registered (publicly or by the organisers), declined,
    attended or a no-show; or a walk-in recorded at the door.

    ``contact_id`` is set for an invited contact, and for a public registration or a walk-in once
    a volunteer matched it to an existing contact or confirmed it as a new one: until then the
    person's details live only here (the public never writes into a station's network).
    E-mail and phone are unique per event: the same person registering twice gets the same row.
    """

    __tablename__ = "event_registrations"
    __table_args__ = (
        _one_of("status", AttendanceStatus, "status"),
        _one_of("source", RegistrationSource, "source"),
        UniqueConstraint("event_id", "contact_id", name="uq_event_registrations_event_contact"),
        UniqueConstraint("event_id", "email_normalized", name="uq_event_registrations_event_email"),
        UniqueConstraint("event_id", "phone_e164", name="uq_event_registrations_event_phone"),
        Index("ix_event_registrations_event_status", "event_id", "status"),
        Index("ix_event_registrations_event_sort", "event_id", "sort_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    token: Mapped[str] = mapped_column(String(40), unique=True, default=new_token)
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    name_original: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    email_normalized: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    organisation: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    # Names in every script, folded, for the door's search; and the list's sort.
    search_text: Mapped[str] = mapped_column(Text, default="")
    sort_name: Mapped[str] = mapped_column(String(200), default="")
    # The public form's consent box: when it was ticked and the notice's version.
    consent_given_at: Mapped[datetime | None]
    consent_text_version: Mapped[str | None] = mapped_column(String(40))
    invited_at: Mapped[datetime | None]
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    registered_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship(lazy="raise")
    contact: Mapped[Contact | None] = relationship(lazy="raise")

    @property
    def pending(self) -> bool:
        """A public registration or walk-in not yet matched or confirmed as a contact."""
        return self.contact_id is None


def _registration_search(_mapper, _connection, target: EventRegistration) -> None:
    from ..models.base import sort_key
    from ..search import pinyin_keys

    target.search_text = "\n".join(p for p in (fold(target.name), fold(target.name_original),
                                                " ".join(pinyin_keys(target.name)),
                                                " ".join(pinyin_keys(target.name_original))) if p)
    target.sort_name = sort_key(target.name)[:200]


event.listen(EventRegistration, "before_insert", _registration_search)
event.listen(EventRegistration, "before_update", _registration_search)
