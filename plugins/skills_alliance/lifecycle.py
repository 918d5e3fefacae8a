"""The agreement lifecycle: the only place that says how an agreement's status changes. The
machine is the core's generic ``liaison.workflow`` (the Europe plugin's stages are its model).

::

    proposed ─negotiate→ negotiation ─sign→ signed ─start→ in_force ─expire→ expired
        └──────────────sign──────────────↗                 ↑  └────renew────┘ │
                                                            └──────renew──────┘
    any status but terminated ─terminate→ terminated

* Both sides may make every move (the station that follows the alliance on the ground, and HQ,
  whose delegations attend the signing ceremonies); at a suspended or closed station only HQ —
  the core's one rule (``liaison.workflow.sides_of``).
* Every move is dated (``on``: not in the future, not before the current status began).
* ``sign`` needs at least two parties and a ``valid_until`` after the signing day; it records
  both on the agreement. ``renew`` needs a ``valid_until`` after the current one.
* ``terminate`` needs a note and a confirmation.

``apply_move`` records the change as an ``AgreementEvent``; it never commits.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from liaison.models import User, db, utcnow
from liaison.workflow import EITHER, IllegalMove, Messages, Move, Workflow, requires_date_after, requires_past_date

from .choices import EventKind, Status
from .models import Agreement, AgreementEvent, Party

__all__ = ["WORKFLOW", "IllegalMove", "apply_move", "available_moves"]

S = Status

_past = requires_past_date("on", _l("Give the date it happened."), _l("The date cannot be in the future."))


def _dated(agreement: Agreement, actor: User, data) -> None:
    _past(agreement, actor, data)
    if data["on"] < agreement.status_since:
        raise IllegalMove(_l("The date cannot be before the current status began (%(date)s).",
                             date=agreement.status_since.isoformat()), "on")


def party_count(agreement: Agreement) -> int:
    if agreement.id is None:
        return len(agreement.parties)
    return db.session.scalar(select(func.count()).select_from(Party).where(Party.agreement_id == agreement.id)) or 0


def _two_parties(agreement: Agreement, actor: User, data) -> None:
    if party_count(agreement) < 2:
        raise IllegalMove(_l("An agreement is signed by at least two parties: add them with “Edit” first."))


_valid_after_signing = requires_date_after(
    "valid_until", lambda agreement, data: data.get("on"),
    _l("Give the date until which the agreement is valid."),
    _l("The agreement must be valid after the day it is signed (%(date)s)."))
_valid_after_current = requires_date_after(
    "valid_until", lambda agreement, data: agreement.valid_until,
    _l("Give the date until which the agreement is valid."),
    _l("A renewal must extend the agreement beyond %(date)s."))

WORKFLOW = Workflow(
    (
        Move("negotiate", _l("Open negotiation"), frozenset({S.PROPOSED}), S.NEGOTIATION, EITHER, guards=(_dated,)),
        Move("sign", _l("Signed"), frozenset({S.PROPOSED, S.NEGOTIATION}), S.SIGNED, EITHER, style="success",
             needs=("valid_until",), guards=(_dated, _two_parties, _valid_after_signing)),
        Move("start", _l("Put into force"), frozenset({S.SIGNED}), S.IN_FORCE, EITHER, style="success",
             guards=(_dated,)),
        Move("renew", _l("Renew"), frozenset({S.IN_FORCE, S.EXPIRED}), S.IN_FORCE, EITHER, style="outline-success",
             needs=("valid_until",), guards=(_dated, _valid_after_current)),
        Move("expire", _l("Expired"), frozenset({S.IN_FORCE}), S.EXPIRED, EITHER, style="outline-secondary",
             guards=(_dated,)),
        Move("terminate", _l("Terminate"), frozenset({S.PROPOSED, S.NEGOTIATION, S.SIGNED, S.IN_FORCE, S.EXPIRED}),
             S.TERMINATED, EITHER, needs_comment=True, style="outline-danger", guards=(_dated,),
             confirm=_l("Yes, terminate this agreement: it is then closed.")),
    ),
    state_of=lambda agreement: agreement.status,
    state_label=Status.label_of,
    comment_field="note",
    messages=Messages(
        wrong_state=_l("An agreement with status “%(state)s” cannot be changed with “%(action)s”."),
        not_allowed=_l("You are not allowed to do “%(action)s” on this agreement."),
        comment_needed=_l("Please add a note: it is required for this action."),
    ),
)
MOVES = WORKFLOW.moves


def available_moves(agreement: Agreement, user: User) -> list[Move]:
    return WORKFLOW.available(agreement, user)


def apply_move(agreement: Agreement, move_name: str, actor: User, *, on: date | None, note: str | None = None,
               valid_until: date | None = None, confirmed: bool = False) -> AgreementEvent:
    """Make one move, dated ``on``, and record it; raise ``IllegalMove`` and change nothing if it
    is refused (unknown, wrong status, not the actor's, unconfirmed, bad date or note)."""
    move, note = WORKFLOW.check(agreement, move_name, actor, comment=note, confirmed=confirmed,
                                data={"on": on, "valid_until": valid_until})
    previous = agreement.status
    if move.name == "sign":
        agreement.signed_on = on
    if "valid_until" in move.needs:
        agreement.valid_until = valid_until
    agreement.status = move.target
    agreement.status_since = on
    agreement.updated_by_id = actor.id
    event = AgreementEvent(agreement=agreement, actor_id=actor.id, created_at=utcnow(), happened_on=on,
                           kind=EventKind.STATUS, from_status=previous, to_status=move.target, text=note)
    db.session.add(event)
    return event
