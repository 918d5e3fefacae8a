"""The partnership stage machine: the only place that says how a partnership's stage changes.

::

    first_contact ─declare_intent→ intent ─negotiate→ negotiation ─sign_mou→ mou_signed
          └──────────negotiate──────────────↗    └──sign_agreement──┐       │ sign_agreement
                                                                    ↓       ↓
                                      concluded ←conclude─ active ←start─ agreement_signed

    any stage before active ─drop→ dropped ─reopen→ negotiation

Talks may start without a formal intent, and an agreement may be signed without an MoU first;
other stages are not skipped, so the board and the counts mean the same thing everywhere.

Who may move:

* The **station side** (``liaison.permissions.acts_for_station``: the station's volunteers, the
  regional admins of its region, admins — only while the station is active) brokers the
  partnership and may make every move except ``reopen``.
* **HQ** (``user.is_hq``: HQ reviewers, admins) leads the delegations at which intents, MoUs and
  agreements are signed (the 2019 Wenzhou delegation to Italy and the UK), so it records those
  moves too, and may drop a partnership it no longer supports. Day-to-day moves (opening talks,
  starting and concluding the programme) stay with the station that follows them on the ground.
* ``reopen`` is HQ's alone: dropped partnerships count in HQ's reports, so only HQ revives one.
* Nobody moves a partnership of a suspended or closed station: like the core's records, it is
  read-only until the station is active again.

Every move is dated by the user (the day of the signing or the meeting — not in the future, not
before the current stage began) and may carry a note; ``drop`` and ``reopen`` require one.
``apply_move`` records the change as a ``PartnershipEvent``; it never commits.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from liaison.models import User, db, utcnow
from liaison.permissions import acts_for_station

from .choices import EventKind, Stage
from .models import Partnership, PartnershipEvent

S = Stage


class Side(enum.Enum):
    STATION = "station"
    HQ = "hq"


STATION = frozenset({Side.STATION})
HQ = frozenset({Side.HQ})
EITHER = STATION | HQ


@dataclass(frozen=True)
class Move:
    name: str
    label: object
    sources: frozenset[Stage]
    target: Stage
    sides: frozenset[Side]
    needs_note: bool = False
    style: str = "primary"  # button colour


MOVES: dict[str, Move] = {
    move.name: move
    for move in (
        Move("declare_intent", _l("Record the intent"), frozenset({S.FIRST_CONTACT}), S.INTENT, EITHER),
        Move("negotiate", _l("Open negotiation"), frozenset({S.FIRST_CONTACT, S.INTENT}), S.NEGOTIATION, STATION),
        Move("sign_mou", _l("MoU signed"), frozenset({S.NEGOTIATION}), S.MOU_SIGNED, EITHER, style="success"),
        Move("sign_agreement", _l("Agreement signed"), frozenset({S.NEGOTIATION, S.MOU_SIGNED}),
             S.AGREEMENT_SIGNED, EITHER, style="success"),
        Move("start", _l("Programme started"), frozenset({S.AGREEMENT_SIGNED}), S.ACTIVE, STATION, style="success"),
        Move("conclude", _l("Conclude"), frozenset({S.ACTIVE}), S.CONCLUDED, STATION, style="secondary"),
        Move("drop", _l("Drop"),
             frozenset({S.FIRST_CONTACT, S.INTENT, S.NEGOTIATION, S.MOU_SIGNED, S.AGREEMENT_SIGNED}),
             S.DROPPED, EITHER, needs_note=True, style="outline-danger"),
        Move("reopen", _l("Reopen talks"), frozenset({S.DROPPED}), S.NEGOTIATION, HQ, needs_note=True,
             style="outline-primary"),
    )
}


class IllegalMove(Exception):
    """A move that is not allowed; ``message`` is for the user, ``field`` names the form
    field at fault, if any. Nothing has been changed when it is raised."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def sides_of(user: User, partnership: Partnership) -> frozenset[Side]:
    """The sides ``user`` speaks for on ``partnership`` (whose ``station`` must be loaded).

    None at a suspended or closed station: its records are read-only, for HQ too."""
    if not partnership.station.is_active:
        return frozenset()
    sides = set()
    if acts_for_station(user, partnership.station):
        sides.add(Side.STATION)
    if user.is_hq:
        sides.add(Side.HQ)
    return frozenset(sides)


def available_moves(partnership: Partnership, user: User) -> list[Move]:
    sides = sides_of(user, partnership)
    return [move for move in MOVES.values() if partnership.stage in move.sources and move.sides & sides]


def apply_move(partnership: Partnership, move_name: str, actor: User, *, on: date | None,
               note: str | None = None, today: date) -> PartnershipEvent:
    """Make one move, dated ``on``, and record it; raise ``IllegalMove`` and change nothing if
    the move is unknown, not possible from the current stage, not the actor's, or its date or
    note is missing or wrong. ``today`` is the user's today (``dates.local_today``)."""
    move = MOVES.get(move_name)
    if move is None:
        raise IllegalMove(_l("Unknown action."))
    if partnership.stage not in move.sources:
        raise IllegalMove(_l("A partnership at stage “%(stage)s” cannot be changed with “%(action)s”.",
                             stage=Stage.label_of(partnership.stage), action=move.label))
    if not move.sides & sides_of(actor, partnership):
        raise IllegalMove(_l("You are not allowed to do “%(action)s” on this partnership.", action=move.label))
    if on is None:
        raise IllegalMove(_l("Give the date it happened."), "on")
    if on > today:
        raise IllegalMove(_l("The date cannot be in the future."), "on")
    if on < partnership.stage_since:
        raise IllegalMove(_l("The date cannot be before the current stage began (%(date)s).",
                             date=partnership.stage_since.isoformat()), "on")
    note = (note or "").strip() or None
    if move.needs_note and not note:
        raise IllegalMove(_l("Please add a note: it is required for this action."), "note")

    previous = partnership.stage
    partnership.stage = move.target
    partnership.stage_since = on
    partnership.updated_by_id = actor.id
    event = PartnershipEvent(partnership=partnership, actor_id=actor.id, created_at=utcnow(), happened_on=on,
                             kind=EventKind.STAGE, from_stage=previous, to_stage=move.target, text=note)
    db.session.add(event)
    return event
