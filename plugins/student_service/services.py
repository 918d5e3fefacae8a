"""Students, service requests, roll calls and programmes as the views, the demo loader and the
jobs use them. Reads are scoped (``access.scoped``); each write makes one change — through
``workflow`` where a state changes — and commits, or changes nothing and raises
(``IllegalMove``, ``Conflict``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, func, literal, select, true
from sqlalchemy.orm import joinedload, selectinload

from liaison import concurrency, jobs
from liaison.i18n import local_today
from liaison.models import Contact, Role, Station, User, db, station_membership, utcnow
from liaison.models.contact import split_list
from liaison.permissions import acts_for_station
from liaison.search import contains

from . import access
from .choices import (NAME, OPEN_REQUEST_STATUSES, REACHED_MARKS, ApplicationStatus, Mark,
                      RequestStatus, Stage)
from .models import (FIELD_MAX_LENGTH, Application, Department, HomeTeam, Programme, ProgrammeField, RequestEvent,
                     RollCall, RollCallEntry, ServiceRequest, Student, StudentEvent, team_members)
from .workflow import IllegalMove, move_request, move_student

STUDENT_FIELDS = ("school", "programme", "field", "level", "start_on", "expected_end_on", "country", "city",
                  "family_contact", "emergency_contact", "home_team_id")
OPTIONAL = frozenset({"programme", "family_contact", "emergency_contact"})


class Conflict(concurrency.Conflict):
    message = _l("Someone else changed this record while you were working on it. "
                 "Nothing was saved: check its current state and try again.")


def _saving(record=None, expected_version: int | None = None):
    return concurrency.commit_or_conflict(record, expected_version, conflict=Conflict, undo_on=(IllegalMove,))


# Reference rows ----------------------------------------------------------------------------

def departments(active_only: bool = True) -> list[Department]:
    stmt = select(Department).order_by(Department.position, Department.id)
    if active_only:
        stmt = stmt.where(Department.active.is_(True))
    return list(db.session.scalars(stmt))


def teams() -> list[HomeTeam]:
    return list(db.session.scalars(select(HomeTeam).order_by(HomeTeam.name)))


def teams_with_members() -> list[HomeTeam]:
    return list(db.session.scalars(select(HomeTeam).options(selectinload(HomeTeam.members)).order_by(HomeTeam.name)))


def all_departments() -> list[Department]:
    """Every department with the number of requests referred to it (one GROUP BY), for the
    management page: ``[(department, requests)]``."""
    used = (select(ServiceRequest.department_id, func.count().label("n")).where(ServiceRequest.department_id.is_not(None))
            .group_by(ServiceRequest.department_id).subquery())
    stmt = (select(Department, func.coalesce(used.c.n, 0)).outerjoin(used, used.c.department_id == Department.id)
            .order_by(Department.active.desc(), Department.position, Department.id))
    return [(department, int(n)) for department, n in db.session.execute(stmt)]


def _department_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {"name": (data.get("name") or "").strip(), "name_zh": (data.get("name_zh") or "").strip(),
              "position": data.get("position") or 0, "active": bool(data.get("active", True))}
    if not values["name"]:
        raise IllegalMove(_l("Give the department's English name."), "name")
    if not values["name_zh"]:
        raise IllegalMove(_l("Give the department's Chinese name."), "name_zh")
    return values


def _department_code(name: str) -> str:
    """A unique code for a new department, from its English name (``talent-office``, ``talent-office-2``)."""
    import re

    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:30] or "department"
    taken = set(db.session.scalars(select(Department.code).where(Department.code.like(f"{base}%"))))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def _same_name(model, values: dict[str, Any], record_id: int | None) -> None:
    for name in ("name", "name_zh"):
        stmt = select(model.id).where(func.lower(getattr(model, name)) == values[name].lower())
        if record_id is not None:
            stmt = stmt.where(model.id != record_id)
        if db.session.scalar(stmt.limit(1)) is not None:
            raise IllegalMove(_l("Another one already has this name."), name)


def create_department(data: dict[str, Any], actor: User) -> Department:
    if not access.may_manage(actor):
        raise IllegalMove(_l("You are not allowed to manage the service alliance."))
    values = _department_values(data)
    _same_name(Department, values, None)
    department = Department(code=_department_code(values["name"]), **values)
    db.session.add(department)
    db.session.commit()
    return department


def update_department(department: Department, data: dict[str, Any], actor: User) -> Department:
    """Rename, reorder, deactivate or reactivate. An inactive department is no longer offered for
    referrals; the requests already referred to it keep it."""
    if not access.may_manage(actor):
        raise IllegalMove(_l("You are not allowed to manage the service alliance."))
    values = _department_values(data)
    _same_name(Department, values, department.id)
    for name, value in values.items():
        setattr(department, name, value)
    db.session.commit()
    return department


def department_in_use(department: Department) -> bool:
    return (db.session.scalar(select(ServiceRequest.id).where(ServiceRequest.department_id == department.id).limit(1))
            is not None or db.session.scalar(select(RequestEvent.id).where(RequestEvent.department_id == department.id)
                                             .limit(1)) is not None)


def delete_department(department: Department, actor: User) -> None:
    """Only a department no request was ever referred to; any other is deactivated instead."""
    if not access.may_manage(actor):
        raise IllegalMove(_l("You are not allowed to manage the service alliance."))
    if department_in_use(department):
        raise IllegalMove(_l("Requests were referred to this department: deactivate it instead."))
    db.session.delete(department)
    db.session.commit()


def _team_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {"name": (data.get("name") or "").strip(), "name_zh": (data.get("name_zh") or "").strip()}
    if not values["name"]:
        raise IllegalMove(_l("Give the county's or city's English name."), "name")
    if not values["name_zh"]:
        raise IllegalMove(_l("Give the county's or city's Chinese name."), "name_zh")
    return values


def create_team(data: dict[str, Any], actor: User) -> HomeTeam:
    if not access.may_manage(actor):
        raise IllegalMove(_l("You are not allowed to manage the home service teams."))
    values = _team_values(data)
    _same_name(HomeTeam, values, None)
    team = HomeTeam(**values)
    db.session.add(team)
    db.session.commit()
    return team


def rename_team(team: HomeTeam, data: dict[str, Any], actor: User) -> HomeTeam:
    if not access.may_manage(actor):
        raise IllegalMove(_l("You are not allowed to manage the home service teams."))
    values = _team_values(data)
    _same_name(HomeTeam, values, team.id)
    team.name, team.name_zh = values["name"], values["name_zh"]
    db.session.commit()
    return team


def add_member(team: HomeTeam, user: User) -> bool:
    if db.session.scalar(select(team_members.c.user_id).where(team_members.c.team_id == team.id,
                                                              team_members.c.user_id == user.id)):
        return False
    db.session.execute(team_members.insert().values(team_id=team.id, user_id=user.id))
    db.session.commit()
    return True


def remove_member(team: HomeTeam, user_id: int) -> bool:
    result = db.session.execute(team_members.delete().where(team_members.c.team_id == team.id,
                                                            team_members.c.user_id == user_id))
    db.session.commit()
    return bool(result.rowcount)


# Students -----------------------------------------------------------------------------------

@dataclass
class Filters:
    stage: str | None = None
    country: str | None = None
    field: str | None = None
    station_id: int | None = None
    q: str | None = None


# One query for a page of students, with the contact's name only (what the lists show).
LIST_OPTIONS = (joinedload(Student.contact).load_only(Contact.name, Contact.name_zh, Contact.erased_at,
                                                      Contact.station_id),
                joinedload(Student.station))


def students(user: User, filters: Filters | None = None) -> Select:
    filters = filters or Filters()
    stmt = access.scoped(select(Student), Student, user)
    if filters.stage:
        stmt = stmt.where(Student.stage == filters.stage)
    if filters.country:
        stmt = stmt.where(Student.country == filters.country)
    if filters.field:
        stmt = stmt.where(Student.field == filters.field)
    if filters.station_id:
        stmt = stmt.where(Student.station_id == filters.station_id)
    if filters.q:
        stmt = stmt.where(Student.contact_id.in_(
            select(Contact.id).where(contains(filters.q, Contact.name, Contact.name_zh)))
            | contains(filters.q, Student.school, Student.field, Student.city))
    return stmt.order_by(Student.id.desc())


def student_of_contact(contact_id: int) -> Student | None:
    return db.session.scalar(select(Student).where(Student.contact_id == contact_id))


def station_of(record) -> Station:
    """The record's station, loaded once (relationships are ``lazy="raise"``)."""
    from .workflow import _station_of

    return _station_of(record)


def may_edit(user: User, student: Student) -> bool:
    """The station's side or the student's home side (HQ, the home team)."""
    return user.is_hq or access.in_team(user, student) or acts_for_station(user, station_of(student))


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    values = {name: data[name] for name in STUDENT_FIELDS if name in data}
    for name in OPTIONAL & values.keys():
        values[name] = (values[name] or "").strip() or None
    for name in ("school", "field", "city"):
        if name in values:
            values[name] = (values[name] or "").strip()
    if "home_team_id" in values:
        values["home_team_id"] = values["home_team_id"] or None
    return values


def _check(values: dict[str, Any]) -> None:
    start, end = values.get("start_on"), values.get("expected_end_on")
    if start and end and end < start:
        raise IllegalMove(_l("The expected end cannot be before the start."), "expected_end_on")
    team = values.get("home_team_id")
    if team is not None and db.session.get(HomeTeam, team) is None:
        raise IllegalMove(_l("Choose a home county or city from the list."), "home_team_id")


def create_student(contact: Contact, data: dict[str, Any], actor: User, *, stage: str = Stage.PROSPECTIVE,
                   since: date | None = None) -> Student:
    """Record ``contact`` (of the station where they study; ``contact.station`` loaded) as a student."""
    if student_of_contact(contact.id) is not None:
        raise IllegalMove(_l("This contact is already recorded as a student."))
    values = _clean(data)
    _check(values)
    since = since or local_today()
    student = Student(contact_id=contact.id, station_id=contact.station_id, created_by_id=actor.id, stage=stage,
                      stage_since=since, **values)
    if stage == Stage.RETURNED:
        student.returned_on = since
    student.station = contact.station
    db.session.add(student)
    db.session.add(StudentEvent(student=student, actor_id=actor.id, happened_on=since, to_stage=stage))
    with _saving():
        pass
    return student


def update_student(student: Student, data: dict[str, Any], actor: User, *, expected_version: int | None) -> list[str]:
    values = _clean(data)
    concurrency.check_version(student, expected_version, Conflict)
    _check(values)
    changed = [name for name, value in values.items() if getattr(student, name) != value]
    with _saving(student, expected_version):
        for name in changed:
            setattr(student, name, values[name])
        if changed:
            db.session.add(StudentEvent(student=student, actor_id=actor.id, happened_on=local_today(),
                                        text=", ".join(changed)))
    return changed


def change_stage(student: Student, move: str, actor: User, *, expected_version: int | None, **data) -> StudentEvent:
    with _saving(student, expected_version):
        event = move_student(student, move, actor, **data)
    return event


# Service requests ---------------------------------------------------------------------------

REQUEST_OPTIONS = (selectinload(ServiceRequest.student).selectinload(Student.contact),
                   selectinload(ServiceRequest.department), selectinload(ServiceRequest.station))


def requests(user: User, *, status: str | None = None, kind: str | None = None) -> Select:
    stmt = access.scoped(select(ServiceRequest), ServiceRequest, user)
    if status == "open":
        stmt = stmt.where(ServiceRequest.status.in_([s.value for s in OPEN_REQUEST_STATUSES]))
    elif status:
        stmt = stmt.where(ServiceRequest.status == status)
    if kind:
        stmt = stmt.where(ServiceRequest.kind == kind)
    return stmt.order_by(ServiceRequest.id.desc())


def _overdue(stmt: Select, user: User, today: date | None) -> Select:
    return (access.scoped(stmt, ServiceRequest, user)
            .where(ServiceRequest.status.in_([s.value for s in OPEN_REQUEST_STATUSES]),
                   ServiceRequest.due_on < (today or local_today())))


def overdue(user: User, today: date | None = None) -> Select:
    return _overdue(select(ServiceRequest), user, today).order_by(ServiceRequest.due_on, ServiceRequest.id)


def count_of(stmt: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def create_request(student: Student, kind: str, summary: str, actor: User) -> ServiceRequest:
    if not may_edit(actor, student):
        raise IllegalMove(_l("You are not allowed to ask for services for this student."))
    summary = (summary or "").strip()
    if not summary:
        raise IllegalMove(_l("Say what the student needs."), "summary")
    request = ServiceRequest(student_id=student.id, station_id=student.station_id, kind=kind, summary=summary,
                             status=RequestStatus.OPEN, created_by_id=actor.id)
    db.session.add(request)
    db.session.add(RequestEvent(request=request, actor_id=actor.id, to_status=RequestStatus.OPEN))
    with _saving():
        pass
    return request


def change_request(request: ServiceRequest, move: str, actor: User, *, expected_version: int | None,
                   **data) -> RequestEvent:
    from flask import url_for

    from liaison.notifications import notify

    with _saving(request, expected_version):
        event = move_request(request, move, actor, **data)
        if move == "refer":
            department = db.session.get(Department, request.department_id)
            notify(f"{NAME}.request_referred", station_volunteers(request.station_id), station_id=request.station_id,
                   params={"request": request.id, "kind": request.kind, "department": department.name_zh,
                           "due": request.due_on.isoformat()},
                   path=url_for(f"{NAME}.request_detail", request_id=request.id), actor_id=actor.id)
    return event


def station_volunteers(station_id: int) -> list[int]:
    return list(db.session.scalars(select(station_membership.c.user_id)
                                   .where(station_membership.c.station_id == station_id)))


def hq_user_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role.in_([Role.HQ_REVIEWER, Role.ADMIN]),
                                                         User.active.is_(True))))


@jobs.scheduled(f"{NAME}.overdue_reminders")
def remind_overdue(today: date | None = None) -> int:
    """Notify HQ and the station of each overdue request at a station where the plugin is on,
    once a day (idempotency keys): run by ``flask --app liaison jobs run-due`` (cron) and by
    ``flask --app liaison student-service remind``."""
    from liaison.notifications import notify
    from liaison.plugins.activation import active_stations_filter

    today = today or local_today()
    rows = db.session.execute(
        select(ServiceRequest.id, ServiceRequest.station_id, ServiceRequest.kind, ServiceRequest.due_on)
        .where(ServiceRequest.status.in_([s.value for s in OPEN_REQUEST_STATUSES]), ServiceRequest.due_on < today,
               active_stations_filter(NAME, ServiceRequest.station_id))
        .order_by(ServiceRequest.id).limit(500)).all()
    hq = hq_user_ids()
    for request_id, station_id, kind, due_on in rows:
        notify(f"{NAME}.request_overdue", [*hq, *station_volunteers(station_id)], station_id=station_id,
               params={"request": request_id, "kind": kind, "due": due_on.isoformat()},
               path=f"/p/{NAME}/requests/{request_id}", key=f"{NAME}.overdue:{request_id}:{today.isoformat()}")
    return len(rows)


# Roll calls -----------------------------------------------------------------------------------

def visible_roll_calls(user: User) -> Select:
    """HQ sees every roll call; others those with a student in their scope (or their teams)."""
    stmt = select(RollCall).order_by(RollCall.opened_at.desc(), RollCall.id.desc())
    if user.is_hq:
        return stmt
    entries = access.scoped(select(RollCallEntry.roll_call_id), RollCallEntry, user)
    return stmt.where(RollCall.id.in_(entries))


def load_roll_call(user: User, roll_call_id: int) -> RollCall:
    from flask import abort

    from liaison.params import parse_id

    ident = parse_id(roll_call_id)
    record = db.session.scalar(visible_roll_calls(user).where(RollCall.id == ident)) if ident else None
    if record is None:
        abort(404)
    return record


def open_roll_call(title: str, country: str, city: str | None, reason: str | None, actor: User) -> RollCall:
    """HQ opens a roll call: every student studying in ``country`` (and ``city``), at the stations
    where the plugin is on, gets an entry to mark."""
    from liaison.plugins.activation import active_stations_filter

    if not actor.is_hq:
        raise IllegalMove(_l("Only HQ opens a roll call."))
    city = (city or "").strip() or None
    roll_call = RollCall(title=title.strip(), country=country, city=city, reason=(reason or "").strip() or None,
                         opened_by_id=actor.id, opened_at=utcnow())
    db.session.add(roll_call)
    db.session.flush()
    who = select(Student.id, Student.station_id).where(
        Student.country == country, Student.stage == Stage.ABROAD,
        active_stations_filter(NAME, Student.station_id))
    if city:
        who = who.where(func.lower(Student.city) == city.lower())
    rows = [{"roll_call_id": roll_call.id, "student_id": sid, "station_id": station, "mark": Mark.PENDING}
            for sid, station in db.session.execute(who)]
    if rows:
        db.session.execute(RollCallEntry.__table__.insert(), rows)
    else:
        roll_call.everyone_reached_at = roll_call.opened_at
    _notify_opened(roll_call, {row["station_id"] for row in rows}, actor)
    db.session.commit()
    return roll_call


def _notify_opened(roll_call: RollCall, station_ids: set[int], actor: User) -> None:
    from flask import url_for

    from liaison.notifications import notify

    for station_id in sorted(station_ids):
        notify(f"{NAME}.roll_call_opened", station_volunteers(station_id), station_id=station_id,
               params={"title": roll_call.title}, path=url_for(f"{NAME}.roll_call", roll_call_id=roll_call.id),
               actor_id=actor.id)


def entries(user: User, roll_call: RollCall, mark: str | None = None) -> Select:
    stmt = access.scoped(select(RollCallEntry), RollCallEntry, user).where(RollCallEntry.roll_call_id == roll_call.id)
    if mark:
        stmt = stmt.where(RollCallEntry.mark == mark)
    order = func.coalesce(RollCallEntry.marked_at, datetime(1970, 1, 1))
    return stmt.order_by(RollCallEntry.mark != Mark.PENDING, order, RollCallEntry.id)


def roll_call_counts(user: User, roll_call: RollCall) -> dict[str, Any]:
    """Counts by mark of the entries the user sees (one GROUP BY)."""
    stmt = (access.scoped(select(RollCallEntry.mark, func.count()), RollCallEntry, user)
            .where(RollCallEntry.roll_call_id == roll_call.id).group_by(RollCallEntry.mark))
    counts = {mark.value: 0 for mark in Mark}
    for mark, n in db.session.execute(stmt):
        counts[mark] = int(n)
    total = sum(counts.values())
    reached = sum(counts[m.value] for m in REACHED_MARKS)
    return {"counts": counts, "total": total, "reached": reached, "left": total - reached,
            "open": roll_call.is_open,
            "everyone_reached_at": roll_call.everyone_reached_at.isoformat() if roll_call.everyone_reached_at else None,
            "minutes_to_reach_everyone": minutes_to_reach(roll_call)}


def minutes_to_reach(roll_call: RollCall) -> int | None:
    if roll_call.everyone_reached_at is None:
        return None
    return int((roll_call.everyone_reached_at - roll_call.opened_at).total_seconds() // 60)


def may_mark(user: User, entry: RollCallEntry) -> bool:
    """The student's station side, HQ or the student's home team; ``entry.student.station`` loaded."""
    return may_edit(user, entry.student)


def mark_entry(entry: RollCallEntry, mark: str, channel: str | None, note: str | None, actor: User) -> RollCallEntry:
    roll_call = entry.roll_call
    if not roll_call.is_open:
        raise IllegalMove(_l("The roll call is closed: its record is kept as it is."))
    if not may_mark(actor, entry):
        raise IllegalMove(_l("You are not allowed to mark this student."))
    if mark not in {m.value for m in Mark} or mark == Mark.PENDING:
        raise IllegalMove(_l("Choose what became of the student."), "mark")
    if mark in {m.value for m in REACHED_MARKS} and not channel:
        raise IllegalMove(_l("Say how the student was reached."), "channel")
    now = utcnow()
    entry.mark, entry.channel, entry.marked_at, entry.marked_by_id = mark, channel or None, now, actor.id
    entry.note = (note or "").strip() or entry.note
    db.session.flush()
    left = db.session.scalar(select(func.count()).where(
        RollCallEntry.roll_call_id == roll_call.id, RollCallEntry.mark.not_in([m.value for m in REACHED_MARKS])))
    if left == 0 and roll_call.everyone_reached_at is None:
        roll_call.everyone_reached_at = now
    elif left and roll_call.everyone_reached_at is not None:
        roll_call.everyone_reached_at = None  # someone was marked "not reached" again
    db.session.commit()
    return entry


def close_roll_call(roll_call: RollCall, actor: User) -> None:
    if not actor.is_hq:
        raise IllegalMove(_l("Only HQ closes a roll call."))
    if not roll_call.is_open:
        raise IllegalMove(_l("The roll call is already closed."))
    roll_call.closed_at = utcnow()
    roll_call.closed_by_id = actor.id
    db.session.commit()


# Programmes -------------------------------------------------------------------------------------

def event_choices(limit: int = 100):
    """Recent and coming events of the core's calendar, to link a programme to (HQ sees them all)."""
    from liaison.events.models import Event

    return list(db.session.scalars(select(Event).order_by(Event.starts_at.desc()).limit(limit)))


def programmes(kind: str | None = None, year: int | None = None) -> Select:
    stmt = select(Programme)
    if kind:
        stmt = stmt.where(Programme.kind == kind)
    if year:
        stmt = stmt.where(Programme.year == year)
    return stmt.order_by(Programme.year.desc(), Programme.starts_on.desc().nulls_last(), Programme.id.desc())


PROGRAMME_FIELDS = ("kind", "title", "title_zh", "year", "starts_on", "ends_on", "places", "host", "fields",
                    "location", "description", "event_id")


def _programme_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {name: data.get(name) for name in PROGRAMME_FIELDS}
    values["title"] = (values["title"] or "").strip()
    if not values["title"]:
        raise IllegalMove(_l("Give the programme's title."), "title")
    for name in ("title_zh", "host", "location", "description"):
        values[name] = (values[name] or "").strip() or None
    # The fields are rows: the text box's items (commas, "，", "、", ";") joined the way the
    # model shows them, so an edit that only respaces them changes nothing.
    items = split_list(data.get("fields"))
    if any(len(item) > FIELD_MAX_LENGTH for item in items):
        raise IllegalMove(_l("Each field can be at most %(n)s characters long.", n=FIELD_MAX_LENGTH), "fields")
    values["fields"] = ", ".join(items) or None
    if values["starts_on"] and values["ends_on"] and values["ends_on"] < values["starts_on"]:
        raise IllegalMove(_l("The end cannot be before the start."), "ends_on")
    return values


def create_programme(data: dict[str, Any], actor: User) -> Programme:
    if not actor.is_hq:
        raise IllegalMove(_l("Only HQ records programmes."))
    programme = Programme(created_by_id=actor.id, **_programme_values(data))
    db.session.add(programme)
    db.session.commit()
    return programme


def update_programme(programme: Programme, data: dict[str, Any], actor: User) -> list[str]:
    """Edit a programme (same rules as a new one). Its places cannot drop below the places
    already given. Returns the names of the fields that changed."""
    if not actor.is_hq:
        raise IllegalMove(_l("Only HQ records programmes."))
    values = _programme_values(data)
    if values["places"] is not None:
        given = db.session.scalar(select(func.count()).where(Application.programme_id == programme.id,
                                                             Application.status == ApplicationStatus.MATCHED)) or 0
        if values["places"] < given:
            raise IllegalMove(_l("%(given)s places are already given: the programme cannot have fewer.",
                                 given=given), "places")
    changed = [name for name, value in values.items() if getattr(programme, name) != value]
    for name in changed:
        setattr(programme, name, values[name])
    db.session.commit()
    return changed


def applications(user: User, programme: Programme) -> Select:
    return (access.scoped(select(Application), Application, user).where(Application.programme_id == programme.id)
            .options(selectinload(Application.student).selectinload(Student.contact),
                     selectinload(Application.student).selectinload(Student.station))
            .order_by(Application.status, Application.id))


def application_counts(programme_ids) -> dict[int, dict[str, int]]:
    """Applications by status per programme, unscoped counts (no names): one GROUP BY."""
    result: dict[int, dict[str, int]] = {}
    if not programme_ids:
        return result
    stmt = (select(Application.programme_id, Application.status, func.count())
            .where(Application.programme_id.in_(programme_ids)).group_by(Application.programme_id, Application.status))
    for pid, status, n in db.session.execute(stmt):
        result.setdefault(pid, {})[status] = int(n)
    return result


def _field_matches(programme_id):
    """EXISTS one of the programme's field rows that the student's field contains (ignoring
    case; ``%``, ``_`` and ``\\`` in a field match themselves): one statement, whatever the
    number of fields; none when the programme has no field."""
    def escaped(expr):
        for char in ("\\", "%", "_"):
            expr = func.replace(expr, char, "\\" + char, type_=String)
        return expr

    pattern = literal("%", String) + escaped(func.lower(ProgrammeField.field, type_=String)) + literal("%", String)
    return (select(ProgrammeField.programme_id)
            .where(ProgrammeField.programme_id == programme_id,
                   func.lower(Student.field, type_=String).like(pattern, escape="\\"))
            .exists())


def matching_students(user: User, programme: Programme, limit: int = 20) -> list[Student]:
    """Students in scope whose field matches one of the internship's fields and who have not
    applied yet: the candidates for its host."""
    applied = select(Application.student_id).where(Application.programme_id == programme.id)
    stmt = (access.scoped(select(Student), Student, user)
            .where(_field_matches(programme.id),
                   Student.stage.in_([Stage.ABROAD, Stage.RETURNED]), Student.id.not_in(applied))
            .options(*LIST_OPTIONS).order_by(Student.id).limit(limit))
    return list(db.session.scalars(stmt))


def apply(programme: Programme, student: Student, actor: User) -> Application:
    if not may_edit(actor, student):
        raise IllegalMove(_l("You are not allowed to apply for this student."))
    if db.session.scalar(select(Application.id).where(Application.programme_id == programme.id,
                                                      Application.student_id == student.id)):
        raise IllegalMove(_l("The student has already applied to this programme."), "student_id")
    application = Application(programme_id=programme.id, student_id=student.id, station_id=student.station_id,
                              status=ApplicationStatus.APPLIED, created_by_id=actor.id)
    db.session.add(application)
    db.session.commit()
    return application


def decide(application: Application, decision: str, actor: User, *, attended: bool | None = None) -> None:
    """HQ gives a place (matches the student to the host), refuses one, or records attendance."""
    if not actor.is_hq:
        raise IllegalMove(_l("Only HQ gives places and records attendance."))
    programme = application.programme
    if decision == "match":
        if application.status == ApplicationStatus.MATCHED:
            raise IllegalMove(_l("The student already has a place."))
        if programme.places is not None:
            given = db.session.scalar(select(func.count()).where(Application.programme_id == programme.id,
                                                                 Application.status == ApplicationStatus.MATCHED))
            if given >= programme.places:
                raise IllegalMove(_l("Every place is taken."))
        application.status = ApplicationStatus.MATCHED
    elif decision == "decline":
        application.status = ApplicationStatus.DECLINED
    elif decision in ("attended", "absent"):
        if application.status != ApplicationStatus.MATCHED:
            raise IllegalMove(_l("Only a student with a place can attend."))
        application.attended = decision == "attended"
    else:
        raise IllegalMove(_l("Unknown action."))
    application.decided_at = utcnow()
    db.session.commit()


# Home page -------------------------------------------------------------------------------------

def open_roll_calls(user: User) -> list[RollCall]:
    return list(db.session.scalars(visible_roll_calls(user).where(RollCall.closed_at.is_(None)).limit(5)))


def home_summary(user: User, today: date | None = None) -> tuple[list, int]:
    """The home page's card in one statement: the open roll calls the user sees (up to 5, newest
    first: rows with ``id``, ``title``, ``country``) and the number of their overdue requests."""
    calls = (visible_roll_calls(user).where(RollCall.closed_at.is_(None)).limit(5)
             .with_only_columns(RollCall.id, RollCall.title, RollCall.country, RollCall.opened_at).subquery())
    late = _overdue(select(func.count(ServiceRequest.id)), user, today).scalar_subquery()
    rows = db.session.execute(
        select(late.label("overdue"), calls.c.id, calls.c.title, calls.c.country)
        .select_from(select(literal(1).label("one")).subquery()).outerjoin(calls, true())
        .order_by(calls.c.opened_at.desc(), calls.c.id.desc())).all()
    return [row for row in rows if row.id is not None], (rows[0].overdue or 0) if rows else 0


def students_per_contact(user: User) -> dict[int, str]:
    stmt = access.scoped(select(Student.contact_id, Student.stage), Student, user)
    return {cid: stage for cid, stage in db.session.execute(stmt)}

