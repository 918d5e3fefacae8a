"""The talent-lead state machine: the only place that says how a lead's status may change.

::

    draft ─submit→ submitted ─start_review→ under_review ─accept→ accepted ─refer→ referred ─land→ landed
                        ↑                        │  │                  │                │
                        └──answer── needs_info ←─┘  └─reject→ rejected └──close_lost──┴→ closed_lost
    any open state ─withdraw→ withdrawn

Built on the core's generic ``liaison.workflow``: each move names the side that may make it —
the **station** (its volunteers, the regional admins of its region, admins — only while the
station is active) or **HQ** (HQ reviewers, admins). At a suspended or closed station only HQ's
moves remain: HQ owns the review (the one rule, see ``liaison.workflow``). Some moves need a
comment; ``refer`` needs a referral target and ``land`` the landing date and what landed;
``submit`` and ``answer`` (the lead goes to HQ) need a valid lawful basis for passing the
person's profile to HQ (``liaison.privacy.consent``).
``apply_move`` records every change as a ``LeadEvent``; it never commits.
"""
from __future__ import annotations

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
from ..workflow import (HQ, STATION, IllegalMove, Messages, Move, Side, Workflow, requires_past_date,
                        requires_text)

__all__ = ["MOVES", "WORKFLOW", "IllegalMove", "Move", "Side", "apply_move", "available_moves", "may_act"]

S = LeadStatus


_needs_referral_target = requires_text(
    "referral_target", _l("Name the department or partner the lead is referred to."))
_needs_landing_date = requires_past_date(
    "landed_on", _l("Give the date the lead landed."), _l("The landing date cannot be in the future."))


def _needs_landing_kind(lead, actor, data) -> None:
    if data.get("landing_kind") not in {k.value for k in LandingKind}:
        raise IllegalMove(_l("Choose what landed."), "landing_kind")


def _needs_basis_to_pass_to_hq(lead, actor, data) -> None:
    """A lead goes to HQ (submitted, or resubmitted with an answer) only with a valid lawful
    basis for passing the person's profile to HQ (``liaison.privacy.consent``)."""
    from ..privacy import consent

    try:
        consent.require_basis(lead.contact_id, consent.Purpose.PASS_TO_HQ)
    except consent.MissingBasis as exc:
        raise IllegalMove(exc.message) from None


WORKFLOW = Workflow(
    (
        Move("submit", _l("Submit to HQ"), frozenset({S.DRAFT}), S.SUBMITTED, STATION,
             guards=(_needs_basis_to_pass_to_hq,)),
        Move("start_review", _l("Start review"), frozenset({S.SUBMITTED}), S.UNDER_REVIEW, HQ),
        Move("request_info", _l("Ask for more information"), frozenset({S.UNDER_REVIEW}),
             S.NEEDS_INFO, HQ, needs_comment=True, style="warning"),
        Move("answer", _l("Answer and resubmit"), frozenset({S.NEEDS_INFO}), S.SUBMITTED,
             STATION, needs_comment=True, guards=(_needs_basis_to_pass_to_hq,)),
        Move("accept", _l("Accept"), frozenset({S.UNDER_REVIEW}), S.ACCEPTED, HQ, style="success"),
        Move("reject", _l("Reject"), frozenset({S.UNDER_REVIEW}), S.REJECTED, HQ,
             needs_comment=True, style="danger"),
        Move("refer", _l("Refer"), frozenset({S.ACCEPTED}), S.REFERRED, HQ,
             guards=(_needs_referral_target,), needs=("referral_target",)),
        Move("land", _l("Record landing"), frozenset({S.REFERRED}), S.LANDED, HQ,
             guards=(_needs_landing_date, _needs_landing_kind), needs=("landed_on", "landing_kind"), style="success"),
        Move("close_lost", _l("Close as lost"), frozenset({S.ACCEPTED, S.REFERRED}),
             S.CLOSED_LOST, HQ, needs_comment=True, style="secondary"),
        Move("withdraw", _l("Withdraw"), OPEN_LEAD_STATUSES, S.WITHDRAWN, STATION,
             style="outline-danger"),
    ),
    state_of=lambda lead: lead.status,
    state_label=LeadStatus.label_of,
    messages=Messages(
        wrong_state=_l("A lead that is “%(status)s” cannot be changed with “%(action)s”."),
        not_allowed=_l("You are not allowed to do “%(action)s” on this lead."),
    ),
)
MOVES: dict[str, Move] = WORKFLOW.moves


def may_act(user: User, lead: TalentLead, side: Side) -> bool:
    """``lead.station`` must be loaded."""
    return side in WORKFLOW.sides_of(user, lead)


def available_moves(lead: TalentLead, user: User) -> list[Move]:
    return WORKFLOW.available(lead, user)


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
    move, comment = WORKFLOW.check(lead, move_name, actor, comment=comment, data={
        "referral_target": referral_target, "landed_on": landed_on, "landing_kind": landing_kind})
    if move.name == "refer":
        lead.referral_target = referral_target.strip()
    if move.name == "land":
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
