"""Title applications and their timelines. Tables are prefixed ``asean_language_title_``.

An application belongs to a contact of a station; its ``station_id`` puts it under the core's
scope filter (``liaison.scope``) like the core's own records.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from liaison.models import Contact, Station, TimestampMixin, User, db, utcnow

from .choices import Route, Status


class TitleApplication(TimestampMixin, db.Model):
    """A translator's application for a professional title in an ASEAN minor language.

    ``status`` and ``route`` change only through ``workflow``; ``version`` is an optimistic lock
    so that two people acting on the same application cannot overwrite each other.
    """

    __tablename__ = "asean_language_title_applications"
    __table_args__ = (
        Index("ix_asean_language_title_applications_station_status", "station_id", "status"),
        Index("ix_asean_language_title_applications_status_decided", "status", "decision_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    language: Mapped[str] = mapped_column(String(10))  # ISO 639 code: vi, id, th, lo, km, my, ms, fil
    level: Mapped[str] = mapped_column(String(20))  # the level applied for (Level)
    practice_years: Mapped[int]
    current_title: Mapped[str | None] = mapped_column(String(20))  # a Level, None if no title yet
    current_title_since: Mapped[date | None]
    education: Mapped[str | None] = mapped_column(String(300))
    credentials: Mapped[str | None] = mapped_column(Text)
    representative_works: Mapped[str | None] = mapped_column(Text)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)  # Document codes at hand
    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT)
    route: Mapped[str] = mapped_column(String(20), default=Route.LOCAL)
    route_overridden: Mapped[bool] = mapped_column(default=False)
    route_reason: Mapped[str | None] = mapped_column(Text)
    certificate_number: Mapped[str | None] = mapped_column(String(60))
    decision_date: Mapped[date | None]  # of the panel's decision; the certificate's date if passed
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)  # first submission
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    contact: Mapped[Contact] = relationship(lazy="raise")
    station: Mapped[Station] = relationship(lazy="raise")
    created_by: Mapped[User | None] = relationship(lazy="raise")
    events: Mapped[list[TitleEvent]] = relationship(
        back_populates="application", lazy="raise", order_by="TitleEvent.id", cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<TitleApplication {self.id} {self.language} {self.level} {self.status}>"

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def document_set(self) -> set[str]:
        return set(self.documents or ())


class TitleEvent(db.Model):
    """One entry of an application's timeline.

    ``kind`` says what changed: a status (``from_value``/``to_value`` are statuses), the route
    (they are routes, ``text`` is the reason), an edit or the creation.
    """

    __tablename__ = "asean_language_title_events"
    __table_args__ = (Index("ix_asean_language_title_events_application_created", "application_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("asean_language_title_applications.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    from_value: Mapped[str | None] = mapped_column(String(20))
    to_value: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    application: Mapped[TitleApplication] = relationship(back_populates="events", lazy="raise")
    actor: Mapped[User | None] = relationship(lazy="raise")
