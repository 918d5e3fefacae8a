"""The only place that says how a student's stage and a service request's status may change —
built on the core's ``liaison.workflow`` (no copy of it).

::

    student:  prospective ─depart→ abroad ─return→ returned ─found_company→ founded_company
                                                       └──employed_at_home→ employed_at_home ─found_company→ …

    request:  open ─refer→ referred ─start→ in_progress ─complete→ done
                 └──────────────┴───────────┴─decline→ declined

Sides (the core's one rule, ``liaison.workflow.sides_of``): the **station** where the student
studies, and the **home** side — HQ and, for the students of their home county or city, the
members of the student's home service team (``access.in_team``). Stages may be recorded by
either side; referring a request to a department of the alliance, and its outcome, are the home
side's. Nothing here commits.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from liaison.i18n import local_today
from liaison.models import User, db, utcnow
from liaison.workflow import (EITHER, HQ, IllegalMove, Messages, Move, Side, Workflow, requires_past_date,
                              requires_text, sides_of)

from .choices import RequestStatus as R
from .choices import Stage as S
from .models import RequestEvent, ServiceRequest, Student, StudentEvent

__all__ = ["IllegalMove", "REQUEST_WORKFLOW", "STAGE_WORKFLOW", "move_request", "move_student"]


def _student_of(record):
    return record if isinstance(record, Student) else record.student


def _station_of(record):
    """The record's station, loaded once if the caller did not (relationships are ``lazy="raise"``)."""
    from sqlalchemy import inspect

    from liaison.models import Station

    if "station" in inspect(record).unloaded:
        record.station = db.session.get(Station, record.station_id)
    return record.station


class _StudentWorkflow(Workflow):
    """A workflow whose home side includes the student's home service team."""

    def sides_of(self, user: User, record) -> frozenset[Side]:
        from .access import in_team

        sides = set(sides_of(user, self.station_of(record)))
        if in_team(user, _student_of(record)):
            sides.add(Side.HQ)
        return frozenset(sides)


_on = requires_past_date("on", _l("Give the date it happened."), _l("The date cannot be in the future."))
_company = requires_text("company", _l("Give the name of the company."))
_employer = requires_text("employer", _l("Give the name of the employer."))

STAGE_WORKFLOW = _StudentWorkflow(
    (
        Move("depart", _l("Left to study abroad"), frozenset({S.PROSPECTIVE}), S.ABROAD, EITHER,
             needs=("on",), guards=(_on,)),
        Move("return", _l("Returned home"), frozenset({S.ABROAD}), S.RETURNED, EITHER, needs=("on",), guards=(_on,)),
        Move("found_company", _l("Founded a company"), frozenset({S.RETURNED, S.EMPLOYED_AT_HOME}), S.FOUNDED_COMPANY,
             EITHER, needs=("on", "company"), guards=(_on, _company), style="success"),
        Move("employed_at_home", _l("Employed at home"), frozenset({S.RETURNED}), S.EMPLOYED_AT_HOME, EITHER,
             needs=("on", "employer"), guards=(_on, _employer), style="success"),
    ),
    state_of=lambda student: student.stage,
    state_label=S.label_of,
    station_of=_station_of,
    messages=Messages(wrong_state=_l("A student who is “%(stage)s” cannot be changed with “%(action)s”."),
                      not_allowed=_l("You are not allowed to do “%(action)s” for this student.")),
)


def _department(record, actor, data) -> None:
    if data.get("department_id") is None:
        raise IllegalMove(_l("Choose the department of the alliance that takes the request."), "department_id")


def _due(record, actor, data) -> None:
    due = data.get("due_on")
    if due is None:
        raise IllegalMove(_l("Give the date the department should answer by."), "due_on")
    if due < local_today():
        raise IllegalMove(_l("Choose today or a later date."), "due_on")


_outcome = requires_text("outcome", _l("Say what came of the request."))

REQUEST_WORKFLOW = _StudentWorkflow(
    (
        Move("refer", _l("Refer to a department"), frozenset({R.OPEN, R.REFERRED}), R.REFERRED, HQ,
             needs=("department_id", "due_on"), guards=(_department, _due)),
        Move("start", _l("Work started"), frozenset({R.REFERRED}), R.IN_PROGRESS, HQ),
        Move("complete", _l("Done"), frozenset({R.REFERRED, R.IN_PROGRESS}), R.DONE, HQ, needs=("outcome",),
             guards=(_outcome,), style="success"),
        Move("decline", _l("Decline"), frozenset({R.OPEN, R.REFERRED, R.IN_PROGRESS}), R.DECLINED, HQ,
             needs=("outcome",), guards=(_outcome,), style="danger"),
    ),
    state_of=lambda request: request.status,
    state_label=R.label_of,
    station_of=_station_of,
    messages=Messages(wrong_state=_l("A request that is “%(status)s” cannot be changed with “%(action)s”."),
                      not_allowed=_l("You are not allowed to do “%(action)s” on this request.")),
)


def move_student(student: Student, move_name: str, actor: User, *, on: date | None, note: str | None = None,
                 company: str | None = None, employer: str | None = None) -> StudentEvent:
    """Make one stage move (``student.station`` loaded) and record it; ``IllegalMove`` changes nothing."""
    move, _comment = STAGE_WORKFLOW.check(student, move_name, actor, data={"on": on, "company": company,
                                                                          "employer": employer})
    previous = student.stage
    student.stage = move.target
    student.stage_since = on
    if move.target is S.RETURNED:
        student.returned_on = on
    if "company" in move.needs:
        student.company = company.strip()
    if "employer" in move.needs:
        student.employer = employer.strip()
    event = StudentEvent(student=student, actor_id=actor.id, happened_on=on, from_stage=previous,
                         to_stage=move.target, text=(note or "").strip() or None)
    db.session.add(event)
    return event


def move_request(request: ServiceRequest, move_name: str, actor: User, *, department_id: int | None = None,
                 due_on: date | None = None, outcome: str | None = None, note: str | None = None) -> RequestEvent:
    """Make one move of a request (``request.student`` and ``.station`` loaded) and record it."""
    move, _comment = REQUEST_WORKFLOW.check(request, move_name, actor, data={
        "department_id": department_id, "due_on": due_on, "outcome": outcome})
    previous = request.status
    if "department_id" in move.needs:
        request.department_id = department_id
        request.due_on = due_on
    if "outcome" in move.needs:
        request.outcome = outcome.strip()
        request.closed_on = local_today()
    request.status = move.target
    request.updated_at = utcnow()
    event = RequestEvent(request=request, actor_id=actor.id, from_status=previous, to_status=move.target,
                         department_id=department_id if "department_id" in move.needs else None,
                         text=(note or outcome or "").strip() or None)
    db.session.add(event)
    return event
