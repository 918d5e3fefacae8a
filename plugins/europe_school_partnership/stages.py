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
* At a suspended or closed station the station side can do nothing; HQ's moves remain — the
  core's one rule for every workflow (``liaison.workflow``).

Every move is dated by the user (the day of the signing or the meeting — not in the future, not
before the current stage began) and may carry a note; ``drop`` and ``reopen`` require one.
Ending a partnership (``conclude``, ``drop``) must be confirmed, and closes its open next step.
``sign_mou`` and ``sign_agreement`` need the MoU or the agreement registered under the
partnership's documents — or an explicit override with a reason, kept in the timeline.
``apply_move`` records the change as ``PartnershipEvent`` s; it never commits. The machine is the
core's generic ``liaison.workflow``.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from liaison.models import User, db, utcnow
from liaison.workflow import EITHER, HQ, STATION, IllegalMove, Messages, Move, Side, Workflow

from .choices import CLOSED_STAGES, DocumentKind, EventKind, Stage
from .models import Partnership, PartnershipDocument, PartnershipEvent

__all__ = ["MOVES", "WORKFLOW", "IllegalMove", "Move", "Side", "apply_move", "available_moves", "sides_of"]

S = Stage


def _dated(partnership: Partnership, actor: User, data) -> None:
    on, today = data.get("on"), data.get("today")
    if on is None:
        raise IllegalMove(_l("Give the date it happened."), "on")
    if today is not None and on > today:
        raise IllegalMove(_l("The date cannot be in the future."), "on")
    if on < partnership.stage_since:
        raise IllegalMove(_l("The date cannot be before the current stage began (%(date)s).",
                             date=partnership.stage_since.isoformat()), "on")


def _has_document(partnership: Partnership, kind: str) -> bool:
    if partnership.id is None:
        return False
    return bool(db.session.scalar(select(func.count()).select_from(PartnershipDocument).where(
        PartnershipDocument.partnership_id == partnership.id, PartnershipDocument.kind == kind)))


def _document_or_override(kind: DocumentKind):
    def guard(partnership: Partnership, actor: User, data) -> None:
        if _has_document(partnership, kind) or (data.get("override_reason") or "").strip():
            return
        raise IllegalMove(_l("Register the %(document)s under Documents first — or, to go ahead without it, "
                             "give the reason.", document=DocumentKind.label_of(kind)), "override_reason")
    guard.document = kind
    return guard


WORKFLOW = Workflow(
    (
        Move("declare_intent", _l("Record the intent"), frozenset({S.FIRST_CONTACT}), S.INTENT, EITHER,
             guards=(_dated,)),
        Move("negotiate", _l("Open negotiation"), frozenset({S.FIRST_CONTACT, S.INTENT}), S.NEGOTIATION, STATION,
             guards=(_dated,)),
        Move("sign_mou", _l("MoU signed"), frozenset({S.NEGOTIATION}), S.MOU_SIGNED, EITHER, style="success",
             guards=(_dated, _document_or_override(DocumentKind.MOU)), details={"document": DocumentKind.MOU, "document_label": DocumentKind.label_of(DocumentKind.MOU)}),
        Move("sign_agreement", _l("Agreement signed"), frozenset({S.NEGOTIATION, S.MOU_SIGNED}),
             S.AGREEMENT_SIGNED, EITHER, style="success",
             guards=(_dated, _document_or_override(DocumentKind.AGREEMENT)),
             details={"document": DocumentKind.AGREEMENT,
                      "document_label": DocumentKind.label_of(DocumentKind.AGREEMENT)}),
        Move("start", _l("Programme started"), frozenset({S.AGREEMENT_SIGNED}), S.ACTIVE, STATION, style="success",
             guards=(_dated,)),
        Move("conclude", _l("Conclude"), frozenset({S.ACTIVE}), S.CONCLUDED, STATION, style="secondary",
             guards=(_dated,), confirm=_l("Yes, end the programme: the partnership is then closed.")),
        Move("drop", _l("Drop"),
             frozenset({S.FIRST_CONTACT, S.INTENT, S.NEGOTIATION, S.MOU_SIGNED, S.AGREEMENT_SIGNED}),
             S.DROPPED, EITHER, needs_comment=True, style="outline-danger", guards=(_dated,),
             confirm=_l("Yes, drop this partnership: it is then closed.")),
        Move("reopen", _l("Reopen talks"), frozenset({S.DROPPED}), S.NEGOTIATION, HQ, needs_comment=True,
             style="outline-primary", guards=(_dated,)),
    ),
    state_of=lambda partnership: partnership.stage,
    state_label=Stage.label_of,
    comment_field="note",
    messages=Messages(
        wrong_state=_l("A partnership at stage “%(stage)s” cannot be changed with “%(action)s”."),
        not_allowed=_l("You are not allowed to do “%(action)s” on this partnership."),
        comment_needed=_l("Please add a note: it is required for this action."),
    ),
)
MOVES: dict[str, Move] = WORKFLOW.moves


def sides_of(user: User, partnership: Partnership) -> frozenset[Side]:
    """The sides ``user`` speaks for on ``partnership`` (whose ``station`` must be loaded)."""
    return WORKFLOW.sides_of(user, partnership)


def available_moves(partnership: Partnership, user: User) -> list[Move]:
    return WORKFLOW.available(partnership, user)


def apply_move(partnership: Partnership, move_name: str, actor: User, *, on: date | None,
               note: str | None = None, today: date, confirmed: bool = False,
               override_reason: str | None = None) -> PartnershipEvent:
    """Make one move, dated ``on``, and record it; raise ``IllegalMove`` and change nothing if
    the move is unknown, not possible from the current stage, not the actor's, unconfirmed, or
    its date, note or document is missing or wrong. ``today`` is the user's today
    (``liaison.i18n.local_today``)."""
    move, note = WORKFLOW.check(partnership, move_name, actor, comment=note, confirmed=confirmed,
                                data={"on": on, "today": today, "override_reason": override_reason})
    now = utcnow()
    document = move.details.get("document")
    override_reason = (override_reason or "").strip()
    if document and override_reason and not _has_document(partnership, document):
        db.session.add(PartnershipEvent(
            partnership=partnership, actor_id=actor.id, created_at=now, happened_on=on,
            kind=EventKind.DOCUMENT_WAIVED, text=override_reason))
    if move.target in CLOSED_STAGES and partnership.next_step:
        db.session.add(PartnershipEvent(
            partnership=partnership, actor_id=actor.id, created_at=now, happened_on=on,
            kind=EventKind.NEXT_STEP_CLOSED, text=partnership.next_step, due_on=partnership.next_step_due))
        partnership.next_step = None
        partnership.next_step_due = None

    previous = partnership.stage
    partnership.stage = move.target
    partnership.stage_since = on
    partnership.updated_by_id = actor.id
    event = PartnershipEvent(partnership=partnership, actor_id=actor.id, created_at=now, happened_on=on,
                             kind=EventKind.STAGE, from_stage=previous, to_stage=move.target, text=note)
    db.session.add(event)
    return event
