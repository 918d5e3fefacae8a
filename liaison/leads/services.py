"""The lead workflow as the views, the CLI and any API use it: create, edit, move, comment,
assign. Every change is written with a ``LeadEvent``; plugins hear about it after commit."""
from __future__ import annotations

from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import concurrency, plugins
from ..models import (
    OPEN_LEAD_STATUSES,
    Contact,
    LeadEvent,
    LeadEventKind,
    LeadStatus,
    Role,
    TalentLead,
    User,
    db,
)
from ..permissions import acts_for_station
from ..assignment import services as assignment
from .workflow import IllegalMove, apply_move

LEAD_FIELDS = ("category", "field", "summary", "wants", "offer", "priority")
OPTIONAL_TEXT = frozenset({"field", "wants", "offer"})
EDITABLE_STATUSES = frozenset({LeadStatus.DRAFT, LeadStatus.NEEDS_INFO})
# Landed, rejected, closed as lost, withdrawn: the record of what happened, no longer worked on.
CLOSED_STATUSES = frozenset(LeadStatus) - OPEN_LEAD_STATUSES


class Conflict(concurrency.Conflict):
    """The lead changed since the user loaded it (optimistic locking)."""

    message = _l("Someone else changed this lead while you were working on it. "
                 "Nothing was saved: check the current state below and try again.")


class Rejected(Exception):
    """Plugins' validation objected; ``problems`` are shown to the user."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _value(name: str, data: dict):
    value = data[name]
    return (value or None) if name in OPTIONAL_TEXT else value


def can_edit(lead: TalentLead, user: User) -> bool:
    """``lead.station`` must be loaded."""
    return lead.status in EDITABLE_STATUSES and acts_for_station(user, lead.station)


def can_comment(lead: TalentLead, user: User) -> bool:
    return user.is_hq or acts_for_station(user, lead.station)


def by_token(token: str | None) -> TalentLead | None:
    if not token:
        return None
    return db.session.scalar(select(TalentLead).where(TalentLead.submission_token == token))


def _check(lead: TalentLead, action: str) -> None:
    problems = plugins.validate_lead(lead, action)
    if problems:
        raise Rejected(problems)


def create_lead(contact: Contact, data: dict, actor: User, *, token: str | None = None,
                submit: bool = False, extra: dict | None = None, sources: dict | None = None) -> TalentLead:
    """Create a draft (and submit it if asked) once per form token: a resent form — a double
    click, a browser retry — returns the lead the first one created. ``sources`` sets where the
    lead came from (``{"source_event_id": …}``; only ``source_*`` columns)."""
    existing = by_token(token)
    if existing is not None:
        return existing
    lead = TalentLead(contact_id=contact.id, station_id=contact.station_id, submitter_id=actor.id,
                      status=LeadStatus.DRAFT, submission_token=token or None)
    for name in LEAD_FIELDS:
        if name in data:
            setattr(lead, name, _value(name, data))
    for name, value in (sources or {}).items():
        if name.startswith("source_") and hasattr(TalentLead, name):
            setattr(lead, name, value)
    lead.station = contact.station
    db.session.add(lead)
    db.session.add(LeadEvent(lead=lead, actor_id=actor.id, kind=LeadEventKind.CREATED, to_status=LeadStatus.DRAFT))
    events = []
    try:
        _check(lead, "save")
        db.session.flush()
        if extra:
            plugins.form_saved("lead", lead, extra, actor)
        if submit:
            _check(lead, "submit")
            events.append(apply_move(lead, "submit", actor))
            assignment.assign_on_submit(lead)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = by_token(token)
        if existing is None:
            raise
        return existing
    except (Rejected, IllegalMove):
        db.session.rollback()
        raise
    plugins.emit("liaison_event_lead_created", lead.station_id, lead=lead, user=actor)
    _after_moves(lead, events, actor)
    return lead


def update_lead(lead: TalentLead, data: dict, actor: User, *, expected_version: int | None,
                extra: dict | None = None) -> None:
    concurrency.check_version(lead, expected_version, Conflict)
    if not can_edit(lead, actor):
        raise IllegalMove(_l("This lead can no longer be edited."))
    with concurrency.commit_or_conflict(conflict=Conflict, undo_on=(Rejected,)):
        changed = [name for name in LEAD_FIELDS if name in data and getattr(lead, name) != _value(name, data)]
        for name in changed:
            setattr(lead, name, _value(name, data))
        if changed or extra:
            db.session.add(LeadEvent(lead=lead, actor_id=actor.id, kind=LeadEventKind.EDITED,
                                     text=", ".join(changed) or None))
        _check(lead, "save")
        db.session.flush()
        if extra:
            plugins.form_saved("lead", lead, extra, actor)


def make_move(lead: TalentLead, move: str, actor: User, *, expected_version: int | None,
              comment: str | None = None, **data) -> LeadEvent:
    with concurrency.commit_or_conflict(lead, expected_version, conflict=Conflict):
        if move in ("submit", "answer"):
            _check(lead, "submit")
        event = apply_move(lead, move, actor, comment, **data)
        assignment.assign_on_submit(lead)  # HQ's assignment rules, in the same transaction
    _after_moves(lead, [event], actor)
    return event


def _after_moves(lead: TalentLead, events: Iterable[LeadEvent], actor: User) -> None:
    for event in events:
        plugins.emit("liaison_event_lead_status_changed", lead.station_id, lead=lead, event=event, user=actor)
        if event.to_status == LeadStatus.SUBMITTED:
            plugins.emit("liaison_event_lead_submitted", lead.station_id, lead=lead, user=actor)


def add_comment(lead: TalentLead, actor: User, text: str) -> LeadEvent:
    if not can_comment(lead, actor):
        raise IllegalMove(_l("You cannot comment on this lead."))
    # A comment does not change the lead itself, so it does not bump its version: a reviewer
    # deciding at the same moment is not told "changed by someone else" for a remark.
    event = LeadEvent(lead=lead, actor_id=actor.id, kind=LeadEventKind.COMMENT, text=text.strip())
    db.session.add(event)
    db.session.commit()
    return event


def reviewers() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role.in_([Role.HQ_REVIEWER, Role.ADMIN]), User.active.is_(True)).order_by(User.name)
    ))


def can_assign(lead: TalentLead, user: User) -> bool:
    """HQ assigns reviewers to open leads; a closed lead's reviewer is part of its record."""
    return user.is_hq and lead.status not in CLOSED_STATUSES


def assign_reviewer(leads: Iterable[TalentLead], reviewer: User | None, actor: User) -> int:
    """Assign (or with ``None`` unassign) a reviewer; returns how many leads changed.

    Refused as a whole, changing nothing, if any of ``leads`` is closed (landed, rejected,
    closed as lost, withdrawn)."""
    if not actor.is_hq:
        raise IllegalMove(_l("Only HQ assigns reviewers."))
    if reviewer is not None and not (reviewer.is_hq and reviewer.active):
        raise IllegalMove(_l("Choose an active HQ reviewer."))
    leads = list(leads)
    closed = [lead for lead in leads if lead.status in CLOSED_STATUSES]
    if closed:
        raise IllegalMove(_l("Closed leads keep their reviewer: %(leads)s cannot be reassigned.",
                             leads=", ".join(f"#{lead.id}" for lead in closed)))
    changed = 0
    for lead in leads:
        new_id = reviewer.id if reviewer else None
        if lead.reviewer_id == new_id:
            continue
        lead.reviewer_id = new_id
        db.session.add(LeadEvent(lead=lead, actor_id=actor.id, kind=LeadEventKind.ASSIGNED,
                                 text=reviewer.name if reviewer else None))
        changed += 1
    with concurrency.commit_or_conflict(conflict=Conflict):
        pass
    return changed
