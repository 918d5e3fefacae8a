"""The talent-lead state machine: the only place that says how a lead's status may change.

::

    draft ─submit→ submitted ─start_review→ under_review ─accept→ accepted ─refer→ referred ─land→ landed
                        ↑                        │  │                  │                │
                        └──answer── needs_info ←─┘  └─reject→ rejected └──close_lost──┴→ closed_lost
    any open state ─withdraw→ withdrawn

Each move names the side that may make it: the **station** (its volunteers, the regional admins
of its region, admins — and only while the station is active) or **HQ** (HQ reviewers, admins).
Some moves need a comment; ``refer`` needs a referral target and ``land`` the landing date and
what landed. ``apply_move`` records every change as a ``LeadEvent``; it never commits.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

from ..models import (
    OPEN_LEAD_STATUSES,
    LandingKind,
    LeadEvent,
    LeadEventKind,
    LeadStatus,
    TalentLead,
    User,
    db,
    utcnow,
)
from ..i18n import local_today
from ..permissions import acts_for_station

S = LeadStatus


class Side(enum.Enum):
    STATION = "station"
    HQ = "hq"


@dataclass(frozen=True)
class Move:
    name: str
    label: object
    sources: frozenset[LeadStatus]
    target: LeadStatus
    side: Side
    needs_comment: bool = False
    needs: tuple[str, ...] = field(default_factory=tuple)  # extra data the move requires
    style: str = "primary"  # button colour in the interface


MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move("submit", _l("Submit to HQ"), frozenset({S.DRAFT}), S.SUBMITTED, Side.STATION),
        Move("start_review", _l("Start review"), frozenset({S.SUBMITTED}), S.UNDER_REVIEW, Side.HQ),
        Move("request_info", _l("Ask for more information"), frozenset({S.UNDER_REVIEW}),
             S.NEEDS_INFO, Side.HQ, needs_comment=True, style="warning"),
        Move("answer", _l("Answer and resubmit"), frozenset({S.NEEDS_INFO}), S.SUBMITTED,
             Side.STATION, needs_comment=True),
        Move("accept", _l("Accept"), frozenset({S.UNDER_REVIEW}), S.ACCEPTED, Side.HQ,
             style="success"),
        Move("reject", _l("Reject"), frozenset({S.UNDER_REVIEW}), S.REJECTED, Side.HQ,
             needs_comment=True, style="danger"),
        Move("refer", _l("Refer"), frozenset({S.ACCEPTED}), S.REFERRED, Side.HQ,
             needs=("referral_target",)),
        Move("land", _l("Record landing"), frozenset({S.REFERRED}), S.LANDED, Side.HQ,
             needs=("landed_on", "landing_kind"), style="success"),
        Move("close_lost", _l("Close as lost"), frozenset({S.ACCEPTED, S.REFERRED}),
             S.CLOSED_LOST, Side.HQ, needs_comment=True, style="secondary"),
        Move("withdraw", _l("Withdraw"), OPEN_LEAD_STATUSES, S.WITHDRAWN, Side.STATION,
             style="outline-danger"),
    )
}


class IllegalMove(Exception):
    """A move that is not allowed now; ``message`` is shown to the user, ``field`` names the
    form field at fault, if any."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def may_act(user: User, lead: TalentLead, side: Side) -> bool:
    """``lead.station`` must be loaded."""
    if side is Side.HQ:
        return user.is_hq
    return acts_for_station(user, lead.station)


def available_moves(lead: TalentLead, user: User) -> list[Move]:
    return [
        move for move in MOVES.values()
        if lead.status in move.sources and may_act(user, lead, move.side)
    ]


def apply_move(
    lead: TalentLead,
    move_name: str,
    actor: User,
    comment: str | None = None,
    *,
    referral_target: str | None = None,
    landed_on: date | None = None,
    landing_kind: str | None = None,
) -> LeadEvent:
    """Make one move on ``lead`` and record it; raise ``IllegalMove`` and change nothing if
    the move is unknown, not possible from the current status, not the actor's to make or
    missing what it needs. The new event is added to the session."""
    move = MOVES.get(move_name)
    if move is None:
        raise IllegalMove(_l("Unknown action."))
    if lead.status not in move.sources:
        raise IllegalMove(
            _l("A lead that is “%(status)s” cannot be changed with “%(action)s”.",
               status=LeadStatus.label_of(lead.status), action=move.label)
        )
    if not may_act(actor, lead, move.side):
        raise IllegalMove(_l("You are not allowed to do “%(action)s” on this lead.", action=move.label))
    comment = (comment or "").strip() or None
    if move.needs_comment and not comment:
        raise IllegalMove(_l("Please add a comment: it is required for this action."), "comment")
    if "referral_target" in move.needs:
        referral_target = (referral_target or "").strip()
        if not referral_target:
            raise IllegalMove(_l("Name the department or partner the lead is referred to."),
                              "referral_target")
        lead.referral_target = referral_target
    if "landed_on" in move.needs:
        if landed_on is None:
            raise IllegalMove(_l("Give the date the lead landed."), "landed_on")
        if landed_on > local_today():
            raise IllegalMove(_l("The landing date cannot be in the future."), "landed_on")
        if landing_kind not in {k.value for k in LandingKind}:
            raise IllegalMove(_l("Choose what landed."), "landing_kind")
        lead.landed_on = landed_on
        lead.landing_kind = landing_kind
        lead.landing_note = comment

    previous = lead.status
    now = utcnow()
    lead.status = move.target
    lead.status_changed_at = now
    if move.target is S.SUBMITTED and lead.submitted_at is None:
        lead.submitted_at = now
    event = LeadEvent(
        lead=lead, actor_id=actor.id, created_at=now, kind=LeadEventKind.STATUS,
        from_status=previous, to_status=move.target, text=comment,
    )
    db.session.add(event)
    return event
