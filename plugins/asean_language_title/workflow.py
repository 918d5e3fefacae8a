"""The title-application state machine: the only place that says how an application's status
and evaluation route may change.

::

    draft ─submit→ submitted ─start_check→ materials_check ─send_to_evaluation→ in_evaluation ─record_pass→ passed
                       ↑                         │                                       └─record_fail→ not_passed
                       └──resubmit── returned ←──┘ return_for_corrections

Each move names the side that may make it: the **station** (its volunteers, the regional admins
of its region and admins, only while the station is active — ``acts_for_station``) or **HQ**
(HQ reviewers and admins). Submitting needs the eligibility rules met and the required
documents at hand; drafts may be saved regardless.

The route (regional panel or entrusted evaluation) follows the region's settings while the
station holds the file; an admin or a regional admin of the region may override it, with a
reason, until the evaluation starts. Every change is recorded as a ``TitleEvent``; nothing here
commits.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from liaison.models import User, db, utcnow
from liaison.permissions import acts_for_station, administers_region

from .choices import EDITABLE_STATUSES, ROUTE_FIXED_STATUSES, EventKind, Route, Status
from .models import TitleApplication, TitleEvent
from .rules import Candidate, Problem, Rules, route_for, submission_problems

S = Status
AUTOMATIC = "automatic"  # an override choice: drop the override, follow the settings again


class Side(enum.Enum):
    STATION = "station"
    HQ = "hq"


@dataclass(frozen=True)
class Move:
    name: str
    label: object
    sources: frozenset[Status]
    target: Status
    side: Side
    needs_comment: bool = False
    needs_certificate: bool = False  # certificate number and date
    needs_decision_date: bool = False
    checks_submission: bool = False  # eligibility rules and documents must be met
    style: str = "primary"


MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move("submit", _l("Submit"), frozenset({S.DRAFT}), S.SUBMITTED, Side.STATION, checks_submission=True),
        Move("start_check", _l("Start materials check"), frozenset({S.SUBMITTED}), S.MATERIALS_CHECK, Side.HQ),
        Move("return_for_corrections", _l("Return for corrections"), frozenset({S.MATERIALS_CHECK}), S.RETURNED,
             Side.HQ, needs_comment=True, style="warning"),
        Move("resubmit", _l("Resubmit"), frozenset({S.RETURNED}), S.SUBMITTED, Side.STATION,
             checks_submission=True),
        Move("send_to_evaluation", _l("Send to evaluation"), frozenset({S.MATERIALS_CHECK}), S.IN_EVALUATION,
             Side.HQ, style="success"),
        Move("record_pass", _l("Record title granted"), frozenset({S.IN_EVALUATION}), S.PASSED, Side.HQ,
             needs_certificate=True, style="success"),
        Move("record_fail", _l("Record not passed"), frozenset({S.IN_EVALUATION}), S.NOT_PASSED, Side.HQ,
             needs_decision_date=True, style="danger"),
    )
}


class IllegalMove(Exception):
    """A change that is not allowed now; ``message`` is shown to the user, ``field`` names the
    form field at fault, if any. Nothing has been changed."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotReady(IllegalMove):
    """The application cannot be submitted: ``problems`` says which rules are unmet."""

    def __init__(self, problems: list[Problem]):
        super().__init__(_l("The application cannot be submitted yet: %(problems)s",
                            problems=" ".join(problem.message for problem in problems)))
        self.problems = problems


def may_act(user: User, application: TitleApplication, side: Side) -> bool:
    """``application.station`` must be loaded."""
    if side is Side.HQ:
        return user.is_hq
    return acts_for_station(user, application.station)


def available_moves(application: TitleApplication, user: User) -> list[Move]:
    return [move for move in MOVES.values()
            if application.status in move.sources and may_act(user, application, move.side)]


def can_edit(application: TitleApplication, user: User) -> bool:
    """The station edits its application while it is a draft or returned to it."""
    return application.status_enum in EDITABLE_STATUSES and acts_for_station(user, application.station)


def may_override_route(user: User, application: TitleApplication) -> bool:
    """Admins and the regional admins of the application's region; ``station`` must be loaded."""
    return administers_region(user, application.station.region_id)


def can_override_route(application: TitleApplication, user: User) -> bool:
    return application.status_enum not in ROUTE_FIXED_STATUSES and may_override_route(user, application)


def _event(application: TitleApplication, actor: User | None, kind: EventKind, **values) -> TitleEvent:
    event = TitleEvent(application=application, actor_id=actor.id if actor else None, created_at=utcnow(),
                       kind=kind, **values)
    db.session.add(event)
    return event


def refresh_route(application: TitleApplication, actor: User | None, rules: Rules | None = None) -> TitleEvent | None:
    """Follow the region's settings (language, level) unless the route is overridden or fixed."""
    if application.route_overridden or application.status_enum in ROUTE_FIXED_STATUSES:
        return None
    rules = rules or Rules.for_station(application.station_id)
    route = route_for(application.language, application.level, rules)
    if application.route == route:
        return None
    previous = application.route
    application.route = route
    if application.id is None:  # a new application: its creation event says where it goes
        return None
    return _event(application, actor, EventKind.ROUTE, from_value=previous, to_value=route,
                  details={"automatic": True})


def apply_move(
    application: TitleApplication,
    move_name: str,
    actor: User,
    comment: str | None = None,
    *,
    certificate_number: str | None = None,
    decision_date: date | None = None,
) -> TitleEvent:
    """Make one move and record it; raise ``IllegalMove`` (``NotReady`` for unmet rules) and
    change nothing if the move is unknown, not possible now, not the actor's or missing data."""
    move = MOVES.get(move_name)
    if move is None:
        raise IllegalMove(_l("Unknown action."))
    if application.status not in move.sources:
        raise IllegalMove(_l("An application that is “%(status)s” cannot be changed with “%(action)s”.",
                             status=Status.label_of(application.status), action=move.label))
    if not may_act(actor, application, move.side):
        raise IllegalMove(_l("You are not allowed to do “%(action)s” on this application.", action=move.label))
    comment = (comment or "").strip() or None
    if move.needs_comment and not comment:
        raise IllegalMove(_l("Please add a comment: the station needs to know what to correct."), "comment")
    today = utcnow().date()
    decides = move.needs_certificate or move.needs_decision_date
    if move.needs_certificate:
        certificate_number = (certificate_number or "").strip()
        if not certificate_number:
            raise IllegalMove(_l("Give the number of the title certificate."), "certificate_number")
    if decides:
        if decision_date is None:
            raise IllegalMove(_l("Give the date of the decision."), "decision_date")
        if decision_date > today:
            raise IllegalMove(_l("The date of the decision cannot be in the future."), "decision_date")
    if move.checks_submission:
        rules = Rules.for_station(application.station_id)
        problems = submission_problems(Candidate.of(application), rules, today)
        if problems:
            raise NotReady(problems)
        refresh_route(application, actor, rules)

    # Everything is checked: from here on the move is made.
    details = None
    if decides:
        application.decision_date = decision_date
        details = {"decision_date": decision_date.isoformat()}
    if move.needs_certificate:
        application.certificate_number = certificate_number
        details["certificate_number"] = certificate_number
    if move.target is S.IN_EVALUATION:
        details = {"route": application.route}  # the route is fixed from now on
    previous = application.status
    now = utcnow()
    application.status = move.target
    application.status_changed_at = now
    if move.target is S.SUBMITTED and application.submitted_at is None:
        application.submitted_at = now
    return _event(application, actor, EventKind.STATUS, from_value=previous, to_value=move.target,
                  text=comment, details=details)


def override_route(application: TitleApplication, route: str, reason: str | None, actor: User) -> TitleEvent:
    """Send the application to ``route`` (or back to the automatic route) for a stated reason."""
    if not may_override_route(actor, application):
        raise IllegalMove(_l("Only an admin or a regional admin of this region may change the route."))
    if application.status_enum in ROUTE_FIXED_STATUSES:
        raise IllegalMove(_l("The route cannot change once the evaluation has started."))
    if route != AUTOMATIC and route not in {member.value for member in Route}:
        raise IllegalMove(_l("Choose a route from the list."), "route")
    reason = (reason or "").strip()
    if not reason:
        raise IllegalMove(_l("Give the reason for changing the route; it is kept in the timeline."), "reason")
    if route == AUTOMATIC:
        target = route_for(application.language, application.level, Rules.for_station(application.station_id))
    else:
        target = Route(route)
    overridden = route != AUTOMATIC
    if target == application.route and overridden == application.route_overridden:
        raise IllegalMove(_l("The application already goes to “%(route)s”.", route=target.label), "route")
    previous = application.route
    application.route = target
    application.route_overridden = overridden
    application.route_reason = reason if overridden else None
    return _event(application, actor, EventKind.ROUTE, from_value=previous, to_value=target, text=reason,
                  details={"automatic": not overridden})
