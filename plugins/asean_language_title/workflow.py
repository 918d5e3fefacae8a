"""The title-application state machine: the only place that says how an application's status
and evaluation route may change.

::

    draft ─submit→ submitted ─start_check→ materials_check ─send_to_evaluation→ in_evaluation ─record_pass→ passed
                       ↑                         │                                       └─record_fail→ not_passed
                       └──resubmit── returned ←──┘ return_for_corrections

Built on the core's generic ``liaison.workflow``. Each move names the side that may make it: the
**station** (its volunteers, the regional admins of its region and admins, only while the
station is active) or **HQ** (HQ reviewers and admins, also at a suspended station: HQ owns the
evaluation — the core's one rule). Submitting needs the eligibility rules met and the required
documents at hand; drafts may be saved regardless.

The route (regional panel or entrusted evaluation) follows the region's settings while the
station holds the file; an admin or a regional admin of the region may override it, with a
reason, until the evaluation starts. Every change is recorded as a ``TitleEvent``; nothing here
commits.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from liaison.i18n import local_today
from liaison.models import User, db, utcnow
from liaison.permissions import acts_for_station, administers_region
from liaison.workflow import (HQ, STATION, IllegalMove, Messages, Move, Side, Workflow, requires_past_date,
                              requires_text)

from .choices import EDITABLE_STATUSES, ROUTE_FIXED_STATUSES, EventKind, Route, Status
from .models import TitleApplication, TitleEvent
from .rules import Candidate, Problem, Rules, route_for, submission_problems

__all__ = ["AUTOMATIC", "MOVES", "WORKFLOW", "IllegalMove", "Move", "NotReady", "Side", "apply_move",
           "available_moves", "can_edit", "can_override_route", "override_route", "refresh_route"]

S = Status
AUTOMATIC = "automatic"  # an override choice: drop the override, follow the settings again


class NotReady(IllegalMove):
    """The application cannot be submitted: ``problems`` says which rules are unmet."""

    def __init__(self, problems: list[Problem]):
        super().__init__(_l("The application cannot be submitted yet: %(problems)s",
                            problems=" ".join(problem.message for problem in problems)))
        self.problems = problems


_certificate = requires_text("certificate_number", _l("Give the number of the title certificate."))
_decision_date = requires_past_date("decision_date", _l("Give the date of the decision."),
                                    _l("The date of the decision cannot be in the future."))


def _ready_to_submit(application, actor, data) -> None:
    problems = submission_problems(Candidate.of(application), Rules.for_station(application.station_id),
                                   local_today())
    if problems:
        raise NotReady(problems)


WORKFLOW = Workflow(
    (
        Move("submit", _l("Submit"), frozenset({S.DRAFT}), S.SUBMITTED, STATION, guards=(_ready_to_submit,)),
        Move("start_check", _l("Start materials check"), frozenset({S.SUBMITTED}), S.MATERIALS_CHECK, HQ),
        Move("return_for_corrections", _l("Return for corrections"), frozenset({S.MATERIALS_CHECK}), S.RETURNED,
             HQ, needs_comment=True, style="warning"),
        Move("resubmit", _l("Resubmit"), frozenset({S.RETURNED}), S.SUBMITTED, STATION, guards=(_ready_to_submit,)),
        Move("send_to_evaluation", _l("Send to evaluation"), frozenset({S.MATERIALS_CHECK}), S.IN_EVALUATION,
             HQ, style="success"),
        Move("record_pass", _l("Record title granted"), frozenset({S.IN_EVALUATION}), S.PASSED, HQ,
             needs=("certificate_number", "decision_date"), guards=(_certificate, _decision_date), style="success"),
        Move("record_fail", _l("Record not passed"), frozenset({S.IN_EVALUATION}), S.NOT_PASSED, HQ,
             needs=("decision_date",), guards=(_decision_date,), style="danger"),
    ),
    state_of=lambda application: application.status,
    state_label=Status.label_of,
    messages=Messages(
        wrong_state=_l("An application that is “%(status)s” cannot be changed with “%(action)s”."),
        not_allowed=_l("You are not allowed to do “%(action)s” on this application."),
        comment_needed=_l("Please add a comment: the station needs to know what to correct."),
    ),
)
MOVES: dict[str, Move] = WORKFLOW.moves


def may_act(user: User, application: TitleApplication, side: Side) -> bool:
    """``application.station`` must be loaded."""
    return side in WORKFLOW.sides_of(user, application)


def available_moves(application: TitleApplication, user: User) -> list[Move]:
    return WORKFLOW.available(application, user)


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
    move, comment = WORKFLOW.check(application, move_name, actor, comment=comment, data={
        "certificate_number": certificate_number, "decision_date": decision_date})
    decides = "decision_date" in move.needs
    if "certificate_number" in move.needs:
        certificate_number = certificate_number.strip()
    if _ready_to_submit in move.guards:
        refresh_route(application, actor)

    # Everything is checked: from here on the move is made.
    details = None
    if decides:
        application.decision_date = decision_date
        details = {"decision_date": decision_date.isoformat()}
    if "certificate_number" in move.needs:
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
