"""Students abroad, the service requests made for them, emergency roll calls and programmes.
Every table is prefixed ``student_service_``.

A ``Student`` is a contact of the station where they study (``station_id`` is the contact's
station), so the core's ``scoped``/``get_or_404`` protect students, their requests, roll-call
entries and programme applications (each carries the student's ``station_id``) like the core's
records. A student may also belong to a **home service team** (their home county or city,
``HomeTeam``): the team's members see and serve the team's students wherever they study
(``access.py``). Departments of the service alliance, teams, roll calls and programmes are the
home side's own rows, not station-owned. The fields a programme suits are rows
(``ProgrammeField``), matched against students' fields in SQL. Relationships are ``lazy="raise"``.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (CheckConstraint, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, inspect,
                        select)
from sqlalchemy.orm import Mapped, attributes, mapped_column, object_session, relationship

from liaison.models import Base, Contact, Station, TimestampMixin, User, db, utcnow
from liaison.models.contact import split_list
from liaison.models.choices import Labelled

from .choices import (STAGE_BADGES, ApplicationStatus, Channel, Level, Mark, ProgrammeKind, RequestStatus,
                      ServiceKind, Stage)

PREFIX = "student_service_"


def one_of(column: str, enum: type[Labelled], name: str | None = None) -> CheckConstraint:
    """A CHECK that ``column`` holds one of ``enum``'s values (named by the metadata's convention)."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name or column)


class Department(db.Model):
    """A member department of the county's service alliance (e.g. the talent office); requests are
    referred to one."""

    __tablename__ = PREFIX + "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


team_members = Table(
    PREFIX + "team_members",
    Base.metadata,
    Column("team_id", ForeignKey(PREFIX + "home_teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class HomeTeam(db.Model):
    """The service team of a home county or city (e.g. Jiashan): its members see the students
    whose home it is, at every station where the plugin is on."""

    __tablename__ = PREFIX + "home_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))

    members: Mapped[list[User]] = relationship(secondary=team_members, lazy="raise", order_by=User.name)


class Student(TimestampMixin, db.Model):
    """A student (or prospective student) abroad: a contact of the station where they study.
    ``stage`` changes only through ``workflow.move_student``."""

    __tablename__ = PREFIX + "students"
    __table_args__ = (
        Index("ix_student_service_students_station_stage", "station_id", "stage"),
        Index("ix_student_service_students_country_stage", "country", "stage"),
        one_of("stage", Stage),
        one_of("level", Level),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    home_team_id: Mapped[int | None] = mapped_column(ForeignKey(PREFIX + "home_teams.id"), index=True)
    school: Mapped[str] = mapped_column(String(200))
    programme: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(120), index=True)
    level: Mapped[str] = mapped_column(String(20), default=Level.BACHELOR)
    start_on: Mapped[date | None]
    expected_end_on: Mapped[date | None]
    country: Mapped[str] = mapped_column(String(2))  # where they study, ISO 3166-1 alpha-2
    city: Mapped[str] = mapped_column(String(120))
    family_contact: Mapped[str | None] = mapped_column(String(300))  # at home: name and phone
    emergency_contact: Mapped[str | None] = mapped_column(String(300))  # abroad: name and phone
    stage: Mapped[str] = mapped_column(String(20), default=Stage.PROSPECTIVE)
    stage_since: Mapped[date]
    returned_on: Mapped[date | None] = mapped_column(index=True)
    company: Mapped[str | None] = mapped_column(String(200))  # founded on return
    employer: Mapped[str | None] = mapped_column(String(200))  # at home
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    contact: Mapped[Contact] = relationship(lazy="raise")
    station: Mapped[Station] = relationship(lazy="raise")
    home_team: Mapped[HomeTeam | None] = relationship(lazy="raise")
    events: Mapped[list[StudentEvent]] = relationship(
        back_populates="student", lazy="raise", cascade="all, delete-orphan",
        order_by=lambda: [StudentEvent.happened_on, StudentEvent.id])

    @property
    def stage_label(self):
        return Stage.label_of(self.stage)

    @property
    def stage_badge(self) -> str:
        return STAGE_BADGES.get(Stage(self.stage), "secondary")

    @property
    def level_label(self):
        return Level.label_of(self.level)


class StudentEvent(db.Model):
    """One line of a student's timeline: recorded, a stage change, an edit."""

    __tablename__ = PREFIX + "student_events"
    __table_args__ = (Index("ix_student_service_student_events_student", "student_id", "happened_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "students.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    happened_on: Mapped[date]
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)

    student: Mapped[Student] = relationship(back_populates="events", lazy="raise")
    actor: Mapped[User | None] = relationship(lazy="raise")


class ServiceRequest(TimestampMixin, db.Model):
    """A service asked for a student — before, during or after their study — referred to a
    department of the alliance. ``status`` changes only through ``workflow.move_request``."""

    __tablename__ = PREFIX + "requests"
    __table_args__ = (
        Index("ix_student_service_requests_station_status", "station_id", "status"),
        Index("ix_student_service_requests_status_due", "status", "due_on"),
        one_of("kind", ServiceKind),
        one_of("status", RequestStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "students.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))  # the student's, for scope
    kind: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.OPEN)
    department_id: Mapped[int | None] = mapped_column(ForeignKey(PREFIX + "departments.id"), index=True)
    due_on: Mapped[date | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    student: Mapped[Student] = relationship(lazy="raise")
    station: Mapped[Station] = relationship(lazy="raise")
    department: Mapped[Department | None] = relationship(lazy="raise")
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", lazy="raise", cascade="all, delete-orphan", order_by="RequestEvent.id")

    @property
    def kind_label(self):
        return ServiceKind.label_of(self.kind)

    @property
    def phase_label(self):
        return ServiceKind(self.kind).phase.label

    @property
    def status_label(self):
        return RequestStatus.label_of(self.status)

    def is_overdue(self, today: date) -> bool:
        return bool(self.due_on and self.due_on < today and self.status in
                    (RequestStatus.OPEN, RequestStatus.REFERRED, RequestStatus.IN_PROGRESS))


class RequestEvent(db.Model):
    __tablename__ = PREFIX + "request_events"
    __table_args__ = (Index("ix_student_service_request_events_request", "request_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "requests.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey(PREFIX + "departments.id"))
    text: Mapped[str | None] = mapped_column(Text)

    request: Mapped[ServiceRequest] = relationship(back_populates="events", lazy="raise")
    actor: Mapped[User | None] = relationship(lazy="raise")


class RollCall(db.Model):
    """An emergency roll call HQ opens for a country (or one city of it): every student studying
    there gets an entry to mark. Closing it keeps every entry."""

    __tablename__ = PREFIX + "roll_calls"
    __table_args__ = (Index("ix_student_service_roll_calls_opened", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    everyone_reached_at: Mapped[datetime | None]  # the first moment no one was left to reach
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RollCallEntry(db.Model):
    """One student in a roll call and what became of them."""

    __tablename__ = PREFIX + "roll_call_entries"
    __table_args__ = (
        UniqueConstraint("roll_call_id", "student_id", name="uq_student_service_roll_call_entries_student"),
        Index("ix_student_service_roll_call_entries_call_mark", "roll_call_id", "mark"),
        one_of("mark", Mark),
        CheckConstraint("channel IS NULL OR channel IN (%s)" % ", ".join(f"'{c.value}'" for c in Channel),
                        name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    roll_call_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "roll_calls.id", ondelete="CASCADE"))
    student_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "students.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    mark: Mapped[str] = mapped_column(String(20), default=Mark.PENDING)
    channel: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    marked_at: Mapped[datetime | None]
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    roll_call: Mapped[RollCall] = relationship(lazy="raise")
    student: Mapped[Student] = relationship(lazy="raise")
    marked_by: Mapped[User | None] = relationship(lazy="raise")

    @property
    def mark_label(self):
        return Mark.label_of(self.mark)

    @property
    def channel_label(self):
        return Channel.label_of(self.channel)


class Programme(db.Model):
    """A summer internship (with its host and places), a summer camp or a lecture, run from home."""

    __tablename__ = PREFIX + "programmes"
    __table_args__ = (Index("ix_student_service_programmes_kind_year", "kind", "year"), one_of("kind", ProgrammeKind))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[int]
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    places: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String(200))  # the internship's host enterprise
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # Optionally the core's event (``liaison.events``) where the work is an event: a lecture, a
    # camp's opening. Registration and attendance at the event stay the core's.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The fields it suits are rows (``student_service_programme_fields``) in the order typed; load
    # them with selectinload(Programme.field_rows) where a page shows them.
    field_rows: Mapped[list[ProgrammeField]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True, order_by="ProgrammeField.position")

    @property
    def kind_label(self):
        return ProgrammeKind.label_of(self.kind)

    @property
    def field_list(self) -> list[str]:
        """The fields it suits, in the order typed (read with one query when not loaded)."""
        return [row.field for row in _loaded_fields(self)]

    @property
    def fields(self) -> str | None:
        """The fields joined by ", " (as the form shows them); assigning a text ("a, b"; also
        "，", "、", ";") or a list replaces the rows."""
        return ", ".join(self.field_list) or None

    @fields.setter
    def fields(self, value) -> None:
        rows = {row.field: row for row in _loaded_fields(self)}
        new_rows = []
        for position, item in enumerate(split_list([item[:FIELD_MAX_LENGTH] for item in split_list(value)])):
            row = rows.get(item) or ProgrammeField(field=item)
            row.position = position
            new_rows.append(row)
        self.field_rows = new_rows


FIELD_MAX_LENGTH = 120


class ProgrammeField(db.Model):
    """One field a programme suits (matched against students' ``field``)."""

    __tablename__ = PREFIX + "programme_fields"

    programme_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "programmes.id", ondelete="CASCADE"),
                                              primary_key=True)
    field: Mapped[str] = mapped_column(String(FIELD_MAX_LENGTH), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)


def _loaded_fields(programme: Programme) -> list[ProgrammeField]:
    """``programme.field_rows``, read with one explicit query when not loaded (lazy="raise"); a
    new programme has none; a detached one not loaded raises (as lazy="raise" does)."""
    state = inspect(programme)
    if "field_rows" not in state.dict:
        session = object_session(programme)
        if state.persistent and session is not None:
            rows = session.scalars(select(ProgrammeField).where(ProgrammeField.programme_id == programme.id)
                                   .order_by(ProgrammeField.position)).all()
            attributes.set_committed_value(programme, "field_rows", list(rows))
        elif state.transient or state.pending:
            attributes.set_committed_value(programme, "field_rows", [])
    return programme.field_rows


class Application(db.Model):
    """A student's application to a programme: a place given (for an internship: matched to its
    host) or not, then attendance."""

    __tablename__ = PREFIX + "applications"
    __table_args__ = (
        UniqueConstraint("programme_id", "student_id", name="uq_student_service_applications_student"),
        Index("ix_student_service_applications_station_status", "station_id", "status"),
        one_of("status", ApplicationStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "programmes.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey(PREFIX + "students.id", ondelete="CASCADE"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.APPLIED)
    attended: Mapped[bool | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    programme: Mapped[Programme] = relationship(lazy="raise")
    student: Mapped[Student] = relationship(lazy="raise")

    @property
    def status_label(self):
        return ApplicationStatus.label_of(self.status)
