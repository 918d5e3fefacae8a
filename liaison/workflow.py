"""A small state machine the core's leads and the plugins' records share.

A ``Workflow`` is a set of ``Move`` s: each names the states it starts from, the state it leads
to, the **sides** that may make it, whether it needs a comment, whether it must be confirmed,
and **guards** — checks on the record and the submitted data that refuse the move with a
message (and the form field at fault). ``Workflow.check`` runs them all, in a fixed order, and
raises ``IllegalMove`` before anything is changed; the caller then changes the record and
records its event. Nothing here writes or commits.

Who acts — the one rule for core and plugins
--------------------------------------------

A station-owned record has two sides:

* the **station side** — the station's volunteers, the regional admins of its region and
  admins (``liaison.permissions.acts_for_station``) — and only while the station is *active*;
* **HQ** — HQ reviewers and admins (``user.is_hq``).

**A suspended or closed station's records are read-only for the station side: nobody records,
edits, submits or withdraws anything for it.** HQ's own moves stay open — HQ owns the review
and its outcome (accepting, rejecting, referring a lead; checking and deciding a title
application; recording a signing HQ's delegation attended), so work already in HQ's hands is
not stranded when a station is suspended. Reactivating the station is the admins' business
(the station page), not a move of any workflow. Every workflow gets this rule from
``sides_of``; no plugin writes its own.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from flask_babel import lazy_gettext as _l

from .models import Station, User


class Side(enum.Enum):
    STATION = "station"
    HQ = "hq"


STATION = frozenset({Side.STATION})
HQ = frozenset({Side.HQ})
EITHER = STATION | HQ


class IllegalMove(Exception):
    """A change that is not allowed now; ``message`` is shown to the user, ``field`` names the
    form field at fault, if any. Nothing has been changed when it is raised."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def sides_of(user: User, station: Station) -> frozenset[Side]:
    """The sides ``user`` speaks for on a record of ``station`` (see the module's docstring)."""
    from .permissions import acts_for_station

    sides = set()
    if acts_for_station(user, station):  # false at a suspended or closed station
        sides.add(Side.STATION)
    if user.is_hq:
        sides.add(Side.HQ)
    return frozenset(sides)


# A guard looks at the record, the actor and the move's data; it raises ``IllegalMove``.
Guard = Callable[[Any, User, Mapping[str, Any]], None]



def requires_text(field_name: str, message) -> Guard:
    """A guard: ``field_name`` holds more than blanks, else ``message`` next to that field."""

    def guard(record, actor, data) -> None:
        if not (data.get(field_name) or "").strip():
            raise IllegalMove(message, field_name)

    return guard


def requires_past_date(field_name: str, missing, in_future) -> Guard:
    """A guard: ``field_name`` holds a date no later than the user's today."""

    def guard(record, actor, data) -> None:
        from .i18n import local_today

        day = data.get(field_name)
        if day is None:
            raise IllegalMove(missing, field_name)
        if day > local_today():
            raise IllegalMove(in_future, field_name)

    return guard


def requires_date_after(field_name: str, after: Callable[[Any, Mapping[str, Any]], Any], missing, too_early) -> Guard:
    """A guard: ``field_name`` holds a date later than ``after(record, data)`` (no bound when that
    is ``None``) — e.g. an end of validity after the signing, a renewal after the current end."""

    def guard(record, actor, data) -> None:
        day = data.get(field_name)
        if day is None:
            raise IllegalMove(missing, field_name)
        bound = after(record, data)
        if bound is not None and day <= bound:
            raise IllegalMove(_format(too_early, date=bound.isoformat()), field_name)

    return guard

@dataclass(frozen=True)
class Move:
    name: str
    label: object
    sources: frozenset
    target: Any
    sides: frozenset[Side]
    needs_comment: bool = False
    needs: tuple[str, ...] = ()  # the form fields the move requires (its guards check them)
    guards: tuple[Guard, ...] = ()
    confirm: object | None = None  # a question: the move is refused unless the user confirmed it
    style: str = "primary"  # the button's colour
    details: Mapping[str, Any] = field(default_factory=dict)  # anything else the caller needs


@dataclass(frozen=True)
class Messages:
    """What the user reads when a move is refused; ``%(state)s`` and ``%(action)s`` are filled in."""

    wrong_state: object = _l("This record is “%(state)s” and cannot be changed with “%(action)s”.")
    not_allowed: object = _l("You are not allowed to do “%(action)s” here.")
    comment_needed: object = _l("Please add a comment: it is required for this action.")
    unconfirmed: object = _l("Please confirm “%(action)s”: tick the box to say you mean it.")
    unknown: object = _l("Unknown action.")


class Workflow:
    """The moves of one kind of record.

    ``state_of(record)`` reads the current state, ``state_label(state)`` names it for the user
    and ``station_of(record)`` gives the (loaded) station the record belongs to.
    """

    def __init__(self, moves: Iterable[Move], *, state_of: Callable[[Any], Any],
                 state_label: Callable[[Any], object], station_of: Callable[[Any], Station] = lambda r: r.station,
                 messages: Messages = Messages(), comment_field: str = "comment") -> None:
        self.moves: dict[str, Move] = {move.name: move for move in moves}
        self.state_of = state_of
        self.state_label = state_label
        self.station_of = station_of
        self.messages = messages
        self.comment_field = comment_field

    def __getitem__(self, name: str) -> Move:
        return self.moves[name]

    def __iter__(self):
        return iter(self.moves.values())

    def items(self):
        return self.moves.items()

    def sides_of(self, user: User, record: Any) -> frozenset[Side]:
        return sides_of(user, self.station_of(record))

    def may(self, user: User, record: Any, move: Move) -> bool:
        return bool(move.sides & self.sides_of(user, record))

    def available(self, record: Any, user: User) -> list[Move]:
        """The moves ``user`` may make on ``record`` now (guards aside: they judge the data)."""
        state, sides = self.state_of(record), self.sides_of(user, record)
        return [move for move in self.moves.values() if state in move.sources and move.sides & sides]

    def check(self, record: Any, name: str, actor: User, *, comment: str | None = None,
              confirmed: bool = False, data: Mapping[str, Any] | None = None) -> tuple[Move, str | None]:
        """The move and the cleaned comment, or ``IllegalMove``: unknown move, wrong state, not
        the actor's side, missing comment, unconfirmed, then each guard in turn."""
        move = self.moves.get(name)
        if move is None:
            raise IllegalMove(self.messages.unknown)
        state = self.state_of(record)
        if state not in move.sources:
            label = self.state_label(state)
            raise IllegalMove(_format(self.messages.wrong_state, state=label, status=label, stage=label,
                                      action=move.label))
        if not self.may(actor, record, move):
            raise IllegalMove(_format(self.messages.not_allowed, action=move.label))
        comment = (comment or "").strip() or None
        if move.needs_comment and not comment:
            raise IllegalMove(self.messages.comment_needed, self.comment_field)
        if move.confirm is not None and not confirmed:
            raise IllegalMove(_format(self.messages.unconfirmed, action=move.label), "confirm")
        for guard in move.guards:
            guard(record, actor, data or {})
        return move, comment


def _format(message, **values):
    """Fill a lazy message's placeholders, translated when it is shown."""
    return _Formatted(message, values)


class _Formatted:
    """A lazily translated message with its values: rendered in the user's language at display."""

    def __init__(self, message, values):
        self.message = message
        self.values = values

    def __str__(self) -> str:
        return str(self.message) % {key: str(value) for key, value in self.values.items()}

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __contains__(self, item) -> bool:
        return item in str(self)
