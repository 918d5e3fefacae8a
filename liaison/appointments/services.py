"""The rules of appointments: scope, creation, reminders, the end of terms."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased, selectinload

from .. import jobs
from ..models import Appointment, AuditEntry, Channel, Role, Station, User, db, station_membership, utcnow
from ..notifications import mail
from ..notifications.kinds import CORE_KINDS, NotificationKind
from ..scope import scoped

EXPIRING_DAYS = 60  # the list of terms ending soon

if not any(kind.name == "appointment_expiring" for kind in CORE_KINDS):
    CORE_KINDS.append(NotificationKind(
        "appointment_expiring", _l("A volunteer's term ends soon"),
        _l("The appointment of %(name)s at %(station)s ends on %(date)s: renew it, or access to the station ends "
           "then."), Channel.EMAIL,
        _l("The volunteer and the admins of the station's region.")))


def reminder_days() -> int:
    return int(current_app.config.get("APPOINTMENT_REMINDER_DAYS", 30))


# Scope -----------------------------------------------------------------------------------------

def visible(user: User):
    """Appointments ``user`` may see: admins and HQ all (HQ read-only), regional admins those of
    their regions' stations, volunteers their own (at stations they still see)."""
    stmt = scoped(select(Appointment), Appointment, user)
    if user.is_volunteer:
        stmt = stmt.where(Appointment.user_id == user.id)
    return stmt


def can_manage(user: User) -> bool:
    return user.is_admin or user.is_regional_admin


def get_or_404(appointment_id, user: User) -> Appointment:
    from flask import abort

    from ..params import parse_id

    ident = parse_id(appointment_id)
    if ident is None:
        abort(404)
    record = db.session.scalar(visible(user).where(Appointment.id == ident).options(
        selectinload(Appointment.user), selectinload(Appointment.station).selectinload(Station.region)))
    if record is None:
        abort(404)
    return record


def latest_end():
    """A correlated subquery: the latest term end of the same volunteer and station."""
    other = aliased(Appointment)
    return (select(func.max(other.term_end)).where(other.user_id == Appointment.user_id,
                                                   other.station_id == Appointment.station_id)
            .scalar_subquery())


def ending_within(days: int, today: date | None = None):
    """Terms that end in the next ``days`` days and have no later term (no renewal yet)."""
    today = today or utcnow().date()
    return and_(Appointment.term_end >= today, Appointment.term_end <= today + timedelta(days=days),
                Appointment.term_end == latest_end(), Appointment.ended_at.is_(None))


# Changes ---------------------------------------------------------------------------------------

def _audit(actor: User | None, action: str, *, station_id: int, region_id: int, **details) -> None:
    db.session.add(AuditEntry(actor_id=actor.id if actor else None, action=action, object_type="appointment",
                              object_id=details.pop("appointment_id", None), region_id=region_id,
                              station_id=station_id, details=details))


def create(actor: User, volunteer: User, station: Station, *, appointed_on: date, term_start: date, term_end: date,
           appointing_body: str, letter_number: str | None) -> Appointment:
    """Record an appointment (or a renewal); a term running today gives the volunteer the station."""
    appointment = Appointment(user_id=volunteer.id, station_id=station.id, appointed_on=appointed_on,
                              term_start=term_start, term_end=term_end, appointing_body=appointing_body,
                              letter_number=letter_number or None, created_by_id=actor.id)
    db.session.add(appointment)
    db.session.flush()
    today = utcnow().date()
    if term_start <= today <= term_end:
        member = db.session.scalar(select(func.count()).select_from(station_membership).where(
            station_membership.c.station_id == station.id, station_membership.c.user_id == volunteer.id))
        if not member:
            db.session.execute(station_membership.insert().values(station_id=station.id, user_id=volunteer.id))
            _audit(actor, "station.member_add", station_id=station.id, region_id=station.region_id,
                   user_id=volunteer.id, email=volunteer.email)
    _audit(actor, "appointment.create", station_id=station.id, region_id=station.region_id,
           appointment_id=appointment.id, user_id=volunteer.id, email=volunteer.email, after=term_end.isoformat())
    db.session.commit()
    return appointment


def expire_terms(today: date | None = None) -> int:
    """Remove the station membership of volunteers whose last term there ended before ``today``
    (no renewal); mark those appointments ended and audit it. Returns how many lost access."""
    today = today or utcnow().date()
    last = (select(Appointment.user_id, Appointment.station_id, func.max(Appointment.term_end).label("last_end"))
            .group_by(Appointment.user_id, Appointment.station_id).subquery())
    rows = db.session.execute(
        select(last.c.user_id, last.c.station_id, Station.region_id, User.email)
        .join(Station, Station.id == last.c.station_id).join(User, User.id == last.c.user_id)
        .where(last.c.last_end < today, exists(select(station_membership.c.user_id).where(
            station_membership.c.user_id == last.c.user_id, station_membership.c.station_id == last.c.station_id)))
        .order_by(last.c.station_id, last.c.user_id)).all()
    now = utcnow()
    for user_id, station_id, region_id, email in rows:
        db.session.execute(station_membership.delete().where(station_membership.c.user_id == user_id,
                                                             station_membership.c.station_id == station_id))
        db.session.execute(Appointment.__table__.update().where(
            Appointment.user_id == user_id, Appointment.station_id == station_id,
            Appointment.ended_at.is_(None)).values(ended_at=now))
        _audit(None, "appointment.expired", station_id=station_id, region_id=region_id, user_id=user_id,
               email=email)
    return len(rows)


START_CATCH_UP_DAYS = 31  # a term whose start the daily job missed (cron down) still starts this long after


def start_terms(today: date | None = None) -> int:
    """Give volunteers the station of a term that starts by ``today`` and was recorded before it
    started (``create`` gives a term running on the day it is recorded at once). Once per term:
    the start is audited (``appointment.start``), and a term already started is not started
    again, even if an admin took the volunteer off the station since. Returns how many got
    access."""
    today = today or utcnow().date()
    started = exists(select(AuditEntry.id).where(AuditEntry.object_type == "appointment",
                                                 AuditEntry.object_id == Appointment.id,
                                                 AuditEntry.action == "appointment.start"))
    rows = db.session.execute(
        select(Appointment.id, Appointment.user_id, Appointment.station_id, Appointment.created_at,
               Appointment.term_start, Station.region_id, User.email, User.active)
        .join(Station, Station.id == Appointment.station_id).join(User, User.id == Appointment.user_id)
        .where(Appointment.term_start <= today, Appointment.term_start >= today - timedelta(days=START_CATCH_UP_DAYS),
               Appointment.term_end >= today, Appointment.ended_at.is_(None), ~started)
        .order_by(Appointment.id)).all()
    granted = 0
    for appointment_id, user_id, station_id, created_at, term_start, region_id, email, active in rows:
        if created_at.date() >= term_start or not active:
            continue  # recorded on or after its start (``create`` handled it); a deactivated account
        member = db.session.scalar(select(func.count()).select_from(station_membership).where(
            station_membership.c.station_id == station_id, station_membership.c.user_id == user_id))
        added = not member
        if added:
            db.session.execute(station_membership.insert().values(station_id=station_id, user_id=user_id))
            _audit(None, "station.member_add", station_id=station_id, region_id=region_id, user_id=user_id,
                   email=email)
            granted += 1
        _audit(None, "appointment.start", station_id=station_id, region_id=region_id,
               appointment_id=appointment_id, user_id=user_id, email=email, added=bool(added))
    return granted


# Scheduled work --------------------------------------------------------------------------------

@jobs.scheduled("appointments")
def daily() -> dict[str, int]:
    """Every ``jobs run-due``: today's start-of-terms and end-of-terms jobs (once a day each)
    and the reminders due."""
    today = utcnow().date()
    jobs.enqueue("appointments.start", key=f"appointments_start:{today.isoformat()}", today=today.isoformat())
    jobs.enqueue("appointments.expire", key=f"appointments_expire:{today.isoformat()}", today=today.isoformat())
    due = db.session.scalars(select(Appointment.id).where(ending_within(reminder_days(), today))
                             .order_by(Appointment.id).limit(1000)).all()
    for appointment_id in due:
        jobs.enqueue("appointments.reminder", key=f"appointment_reminder:{appointment_id}",
                     appointment_id=appointment_id)
    return {"reminders": len(due)}


@jobs.job("appointments.start")
def start_job(today: str) -> int:
    return start_terms(date.fromisoformat(today))


@jobs.job("appointments.expire")
def expire_job(today: str) -> int:
    return expire_terms(date.fromisoformat(today))


@jobs.job("appointments.reminder")
def reminder_job(appointment_id: int) -> int:
    from ..notifications.services import deliver, region_admin_ids

    appointment = db.session.scalar(select(Appointment).where(Appointment.id == appointment_id).options(
        selectinload(Appointment.user), selectinload(Appointment.station)))
    if appointment is None or appointment.ended_at is not None:
        return 0
    renewed = db.session.scalar(select(Appointment.id).where(
        Appointment.user_id == appointment.user_id, Appointment.station_id == appointment.station_id,
        Appointment.term_end > appointment.term_end).limit(1))
    if renewed is not None:
        return 0
    station = appointment.station
    users = {appointment.user_id} | region_admin_ids(station.region_id)
    params = {"name": appointment.user.name, "station_name": station.name, "station_name_zh": station.name_zh,
              "date": appointment.term_end.isoformat()}
    return deliver("appointment_expiring", users, station_id=station.id,
                   params=params, path=mail.app_path("appointments.letter", appointment_id=appointment.id))


def volunteers_for(user: User) -> list[User]:
    """Volunteers ``user`` may appoint: admins any, regional admins those they manage."""
    from ..scope import visible_users_query

    return list(db.session.scalars(visible_users_query(user).where(User.role == Role.VOLUNTEER,
                                                                     User.active.is_(True))))
