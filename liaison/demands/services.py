"""The rules of demands and matches: recording and editing demands, their status, recording a
match (an introduction: the contact's profile is passed on, so it needs consent), moving it
through its stages, the talent lead an intent creates, and who is told.

::

    demand:  open ─start_matching→ matching ─mark_matched→ matched
             open / matching / matched ─close→ closed ─reopen→ open
    match:   introduced ─hold_meeting→ meeting_held ─sign_intent→ intent_signed ─land→ landed
             introduced / meeting_held / intent_signed ─drop→ dropped

Both state machines are ``liaison.workflow`` workflows. Demands are managed by HQ and by the
regional admins of a region they target (``liaison.scope.manages_demand``): both act on the
demand's *station side* here, which ``DemandWorkflow.sides_of`` decides (a demand has no station).
Matches are HQ's: every move is an HQ move.
"""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import concurrency
from ..models import AuditEntry, Contact, Role, TalentLead, User, db, station_membership, utcnow
from ..notifications.kinds import CORE_KINDS, NotificationKind
from ..scope import manages_demand
from ..search import fold
from ..workflow import EITHER, HQ, IllegalMove, Move, Side, Workflow
from .models import (
    ACTIVE_STATUSES,
    FIELD_LENGTH,
    Demand,
    DemandField,
    DemandKind,
    DemandMatch,
    DemandMatchEvent,
    DemandRegion,
    DemandStatus,
    MatchStage,
)

__all__ = ["DEMAND_WORKFLOW", "MATCH_WORKFLOW", "Conflict", "IllegalMove", "create_demand", "update_demand",
           "move_demand", "record_match", "move_match"]

NOTIFICATION_KIND = "demand_match_stage"
if not any(kind.name == NOTIFICATION_KIND for kind in CORE_KINDS):
    CORE_KINDS.append(NotificationKind(
        NOTIFICATION_KIND, _l("A contact's match with a demand moved on"),
        _l("The match of %(contact)s with the demand “%(demand)s” is now “%(match_stage)s”."), "app",
        _l("The volunteers of the contact's station.")))


class Conflict(concurrency.Conflict):
    message = _l("Someone else changed this record while you were working on it. "
                 "Nothing was saved: check its current state and try again.")


# Workflows ----------------------------------------------------------------------------------

class DemandWorkflow(Workflow):
    """A demand's moves: its managers (HQ, the regional admins of a region it targets) act on the
    station side, HQ on both."""

    def sides_of(self, user: User, record) -> frozenset[Side]:
        sides = set()
        if manages_demand(record, user):
            sides.add(Side.STATION)
        if user.is_hq:
            sides.add(Side.HQ)
        return frozenset(sides)


D = DemandStatus
DEMAND_WORKFLOW = DemandWorkflow(
    [
        Move("start_matching", _l("Start matching"), frozenset({D.OPEN}), D.MATCHING, EITHER),
        Move("mark_matched", _l("Mark as matched"), frozenset({D.MATCHING}), D.MATCHED, EITHER, style="success"),
        Move("close", _l("Close"), frozenset({D.OPEN, D.MATCHING, D.MATCHED}), D.CLOSED, EITHER,
             needs_comment=True, style="outline-danger"),
        Move("reopen", _l("Reopen"), frozenset({D.CLOSED, D.MATCHED}), D.OPEN, EITHER, style="outline-secondary"),
    ],
    state_of=lambda demand: DemandStatus(demand.status),
    state_label=lambda state: DemandStatus.label_of(state),
    station_of=lambda demand: None,
)

class MatchWorkflow(Workflow):
    """Matches are HQ's alone, at any station (HQ's moves stay open at a suspended station)."""

    def sides_of(self, user: User, record) -> frozenset[Side]:
        return HQ if user.is_hq else frozenset()


M = MatchStage
MATCH_WORKFLOW = MatchWorkflow(
    [
        Move("hold_meeting", _l("Meeting held"), frozenset({M.INTRODUCED}), M.MEETING_HELD, HQ),
        Move("sign_intent", _l("Intent signed"), frozenset({M.INTRODUCED, M.MEETING_HELD}), M.INTENT_SIGNED, HQ,
             style="success"),
        Move("land", _l("Landed"), frozenset({M.INTENT_SIGNED}), M.LANDED, HQ, style="success"),
        Move("drop", _l("Dropped"), frozenset({M.INTRODUCED, M.MEETING_HELD, M.INTENT_SIGNED}), M.DROPPED, HQ,
             needs_comment=True, style="outline-danger"),
    ],
    state_of=lambda match: MatchStage(match.stage),
    state_label=lambda state: MatchStage.label_of(state),
    station_of=lambda match: None,
)


# Demands ------------------------------------------------------------------------------------

DEMAND_FIELDS = ("title", "organisation", "source_kind", "city", "contact_name", "contact_phone", "contact_email",
                 "kind", "requirements", "salary_range", "funding", "policy_support", "deadline")


def split_fields(value) -> list[str]:
    from ..models.contact import split_list

    return split_list([item[:FIELD_LENGTH] for item in split_list(value)])


def _set_rows(demand: Demand, fields: list[str], region_ids: list[int]) -> None:
    current = {row.field: row for row in demand.field_rows}
    rows = []
    for position, name in enumerate(split_fields(fields)):
        row = current.get(name) or DemandField(field=name)
        row.folded, row.position = fold(name)[:FIELD_LENGTH], position
        rows.append(row)
    demand.field_rows = rows
    regions = {row.region_id: row for row in demand.region_rows}
    demand.region_rows = [regions.get(i) or DemandRegion(region_id=i) for i in sorted(set(region_ids))]
    from .models import _demand_search_text

    demand.search_text = _demand_search_text(demand)


def _audit(actor: User, action: str, object_type: str, object_id: int, **details) -> None:
    db.session.add(AuditEntry(actor_id=actor.id, action=action, object_type=object_type, object_id=object_id,
                              details=details))


def _empty(value):
    return value if value not in ("",) else None


def create_demand(actor: User, data: dict, *, fields: list[str], region_ids: list[int]) -> Demand:
    demand = Demand(status=DemandStatus.OPEN.value, created_by_id=actor.id, status_changed_at=utcnow(),
                    **{name: _empty(data.get(name)) for name in DEMAND_FIELDS})
    demand.field_rows, demand.region_rows = [], []
    _set_rows(demand, fields, region_ids)
    db.session.add(demand)
    db.session.flush()
    _audit(actor, "demand.create", "demand", demand.id, name=f"#{demand.id}")
    db.session.commit()
    return demand


def update_demand(demand: Demand, actor: User, data: dict, *, fields: list[str], region_ids: list[int],
                  expected_version: int | None) -> None:
    """``region_ids`` are the regions chosen among those the actor may target; regions the
    demand targets outside them (another region's admin's) are kept."""
    from ..scope import admin_region_ids

    if not manages_demand(demand, actor):
        raise IllegalMove(_l("You cannot edit this demand."))
    if not actor.is_hq:
        region_ids = list(set(region_ids) | (set(demand.region_ids) - admin_region_ids(actor)))
    with concurrency.commit_or_conflict(demand, expected_version, conflict=Conflict):
        for name in DEMAND_FIELDS:
            setattr(demand, name, _empty(data.get(name)))
        _set_rows(demand, fields, region_ids)
        _audit(actor, "demand.update", "demand", demand.id, name=f"#{demand.id}")


def move_demand(demand: Demand, move: str, actor: User, *, comment: str | None = None,
                expected_version: int | None = None) -> None:
    with concurrency.commit_or_conflict(demand, expected_version, conflict=Conflict):
        chosen, comment = DEMAND_WORKFLOW.check(demand, move, actor, comment=comment)
        before = demand.status
        demand.status = chosen.target.value
        demand.status_changed_at = utcnow()
        _audit(actor, "demand.status", "demand", demand.id, name=f"#{demand.id}", before=before,
               after=demand.status, comment=comment)


# Matches ------------------------------------------------------------------------------------

def match_of(demand: Demand, contact_id: int) -> DemandMatch | None:
    return db.session.scalar(select(DemandMatch).where(DemandMatch.demand_id == demand.id,
                                                       DemandMatch.contact_id == contact_id))


def record_match(demand: Demand, contact: Contact, actor: User, *, lead: TalentLead | None = None,
                 note: str | None = None, event_id: int | None = None) -> DemandMatch:
    """HQ introduces ``contact`` (in HQ's scope, loaded by the caller through ``liaison.scope``)
    to the demand: the profile is passed on, so the contact must have a valid basis for
    ``Purpose.PASS_TO_HQ`` (``liaison.privacy.consent.may_contact``). An open demand moves to
    "matching". Recording the same contact twice returns the first match."""
    from ..privacy.consent import Purpose, may_contact

    if not actor.is_hq:
        raise IllegalMove(_l("Only HQ records matches."))
    if not demand.is_active:
        raise IllegalMove(_l("This demand is “%(status)s”: matches are recorded while it is open or matching.",
                             status=DemandStatus.label_of(demand.status)))
    if lead is not None and lead.contact_id != contact.id:
        raise IllegalMove(_l("The lead is about another contact."), "lead_id")
    existing = match_of(demand, contact.id)
    if existing is not None:
        return existing
    if contact.erased_at is not None or not may_contact(contact, Purpose.PASS_TO_HQ):
        raise IllegalMove(_l("%(name)s has not agreed to their profile being passed on (no valid lawful basis "
                             "for “%(purpose)s”): record it on the contact's page first.",
                             name=contact.name, purpose=Purpose.PASS_TO_HQ.label))
    now = utcnow()
    match = DemandMatch(demand_id=demand.id, contact_id=contact.id, station_id=contact.station_id,
                        lead_id=lead.id if lead is not None else None, stage=MatchStage.INTRODUCED.value,
                        stage_changed_at=now, note=(note or "").strip() or None, created_by_id=actor.id,
                        event_id=event_id)
    db.session.add(match)
    db.session.add(DemandMatchEvent(match=match, actor_id=actor.id, created_at=now,
                                    to_stage=MatchStage.INTRODUCED.value, note=match.note))
    if demand.status == DemandStatus.OPEN.value:
        demand.status, demand.status_changed_at = DemandStatus.MATCHING.value, now
    try:
        db.session.flush()
        _audit(actor, "demand_match.create", "demand_match", match.id, name=f"#{match.id}", demand=demand.id)
        _notify(match, demand, contact, actor)
        db.session.commit()
    except IntegrityError:  # the same introduction recorded at the same moment by someone else
        db.session.rollback()
        existing = match_of(demand, contact.id)
        if existing is None:
            raise
        return existing
    return match


LEAD_CATEGORY = {
    DemandKind.HIRE: "employment",
    DemandKind.PROJECT_COOPERATION: "project",
    DemandKind.EXPERT_CONSULTATION: "flexible",
    DemandKind.JOINT_RND: "project",
    DemandKind.TRAINING: "flexible",
    DemandKind.INVESTMENT: "project",
}


def _lead_for_intent(match: DemandMatch, demand: Demand, contact: Contact, actor: User) -> TalentLead:
    """The match's lead, or a new draft lead for the contact's station made through the leads
    service (``liaison.leads.services.create_lead``; idempotent by its form token)."""
    from ..leads import services as leads

    if match.lead_id is not None:
        return db.session.get(TalentLead, match.lead_id)
    offer = "; ".join(p for p in (demand.salary_range, demand.funding, demand.policy_support) if p) or None
    data = {"category": LEAD_CATEGORY.get(DemandKind(demand.kind), "project"),
            "field": (demand.field_list[0] if demand.field_list else None),
            "summary": str(_l("Intent signed with %(organisation)s on the demand “%(title)s” (#%(id)s).",
                              organisation=demand.organisation, title=demand.title, id=demand.id)),
            "wants": None, "offer": offer, "priority": 3}
    try:
        return leads.create_lead(contact, data, actor, token=f"demand-match-{match.id}",
                                 sources={"source_demand_id": demand.id})
    except leads.Rejected as exc:
        raise IllegalMove("; ".join(exc.problems)) from None


def move_match(match: DemandMatch, move: str, actor: User, *, comment: str | None = None,
               expected_version: int | None = None) -> DemandMatchEvent:
    """Move the match (HQ). ``sign_intent`` creates or links the talent lead, its source the
    demand. The contact's station's volunteers are told."""
    concurrency.check_version(match, expected_version, Conflict)
    chosen, comment = MATCH_WORKFLOW.check(match, move, actor, comment=comment)
    demand = db.session.scalar(select(Demand).where(Demand.id == match.demand_id)
                               .options(selectinload(Demand.field_rows)))
    contact = db.session.scalar(select(Contact).where(Contact.id == match.contact_id)
                                .options(selectinload(Contact.station)))
    lead = None
    if chosen.target == MatchStage.INTENT_SIGNED:
        lead = _lead_for_intent(match, demand, contact, actor)  # commits the new draft on its own
    with concurrency.commit_or_conflict(conflict=Conflict):
        now = utcnow()
        before = match.stage  # (re)loaded before any change: one UPDATE, one version step
        if (expected_version is not None and match.version != expected_version) or MatchStage(before) not in chosen.sources:
            raise Conflict()  # moved by someone else while the lead was being created
        if lead is not None:
            if lead.source_demand_id is None:
                lead.source_demand_id = demand.id
            match.lead_id = lead.id
        match.stage, match.stage_changed_at = chosen.target.value, now
        event = DemandMatchEvent(match_id=match.id, actor_id=actor.id, created_at=now, from_stage=before,
                                 to_stage=match.stage, note=comment)
        db.session.add(event)
        _audit(actor, "demand_match.stage", "demand_match", match.id, name=f"#{match.id}", before=before,
               after=match.stage)
        _notify(match, demand, contact, actor)
    return event


def _notify(match: DemandMatch, demand: Demand, contact: Contact, actor: User) -> None:
    """Tell the volunteers of the contact's station (a job in this transaction)."""
    from ..notifications import mail
    from ..notifications.services import notify

    volunteers = db.session.scalars(
        select(User.id).join(station_membership, station_membership.c.user_id == User.id)
        .where(station_membership.c.station_id == match.station_id, User.role == Role.VOLUNTEER,
               User.active.is_(True))).all()
    volunteers = [v for v in volunteers if v != actor.id]
    if not volunteers:
        return
    notify(NOTIFICATION_KIND, volunteers, station_id=match.station_id, actor_id=actor.id,
           params={"contact": contact.name, "demand": demand.title, "match_stage": match.stage},
           path=mail.app_path("contacts.detail", contact_id=contact.id),
           key=f"demand_match:{match.id}:{match.stage}")


# Reading ------------------------------------------------------------------------------------

def demand_options():
    return (selectinload(Demand.field_rows), selectinload(Demand.region_rows).selectinload(DemandRegion.region))


def matches_in_scope(demand: Demand, user: User) -> list[DemandMatch]:
    """The demand's matches whose contact the user may see, with contact, station, lead and
    timeline loaded."""
    from ..scope import scoped

    stmt = scoped(select(DemandMatch).where(DemandMatch.demand_id == demand.id), DemandMatch, user)
    stmt = stmt.options(selectinload(DemandMatch.contact), selectinload(DemandMatch.station),
                        selectinload(DemandMatch.lead),
                        selectinload(DemandMatch.events).selectinload(DemandMatchEvent.actor))
    return list(db.session.scalars(stmt.order_by(DemandMatch.id)))


def matches_of_contact(contact: Contact) -> list[DemandMatch]:
    """A contact's matches (the contact's page; the caller checked the contact's scope)."""
    stmt = (select(DemandMatch).where(DemandMatch.contact_id == contact.id)
            .options(selectinload(DemandMatch.demand), selectinload(DemandMatch.lead))
            .order_by(DemandMatch.id.desc()).limit(50))
    return list(db.session.scalars(stmt))


def stage_label(value: str):
    return MatchStage.label_of(value)


def is_active_status(value: str) -> bool:
    return value in ACTIVE_STATUSES


def today() -> date:
    from ..i18n import local_today

    return local_today()


# Demands presented at events (``event_demands``) ---------------------------------------------
# A matchmaking event (对接会) presents demands to the talent there; its matches record the event
# (``DemandMatch.event_id``). HQ and the regional admins who manage a demand present it at an
# event they see, or take it off again.

def presented_demands(event_id: int, user: User) -> list[Demand]:
    """The demands presented at the event that ``user`` may see (``region_rows`` loaded, for
    ``manages_demand``), newest first."""
    from ..scope import visible_demands_condition
    from .models import event_demands

    stmt = (select(Demand).join(event_demands, event_demands.c.demand_id == Demand.id)
            .where(event_demands.c.event_id == event_id, visible_demands_condition(user))
            .options(selectinload(Demand.region_rows))
            .order_by(Demand.created_at.desc(), Demand.id.desc()))
    return list(db.session.scalars(stmt))


def presentable_demands(event_id: int, user: User, *, limit: int = 200) -> list:
    """Active demands ``user`` manages (HQ every one, a regional admin those of their regions)
    not yet presented at the event — the choices of the event page's form: rows of ``id``,
    ``title`` and ``organisation`` only (not whole demands)."""
    from ..scope import visible_demands_condition
    from .models import event_demands

    if not (user.is_hq or user.is_regional_admin):
        return []
    stmt = (select(Demand.id, Demand.title, Demand.organisation)
            .where(visible_demands_condition(user), Demand.status.in_(ACTIVE_STATUSES),
                   ~Demand.id.in_(select(event_demands.c.demand_id).where(event_demands.c.event_id == event_id)))
            .order_by(Demand.created_at.desc(), Demand.id.desc()).limit(limit))
    return list(db.session.execute(stmt))


def events_of_demand(demand: Demand, user: User, *, limit: int = 200) -> list:
    """The events the demand was presented at that ``user`` may see, latest first."""
    from ..events.models import Event
    from ..scope import visible_events_condition
    from .models import event_demands

    stmt = (select(Event).join(event_demands, event_demands.c.event_id == Event.id)
            .where(event_demands.c.demand_id == demand.id, visible_events_condition(user))
            .order_by(Event.starts_at.desc(), Event.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))


def is_presented(event_id: int, demand_id: int) -> bool:
    from .models import event_demands

    return db.session.scalar(select(event_demands.c.event_id).where(
        event_demands.c.event_id == event_id, event_demands.c.demand_id == demand_id)) is not None


def present_at_event(demand: Demand, event, actor: User) -> bool:
    """Presents the demand at the event; False when it already was (nothing written)."""
    from .models import event_demands

    if is_presented(event.id, demand.id):
        return False
    try:
        with db.session.begin_nested():
            db.session.execute(event_demands.insert().values(event_id=event.id, demand_id=demand.id))
    except IntegrityError:  # presented by someone else meanwhile
        return False
    _audit(actor, "demand.present", "demand", demand.id, name=f"#{demand.id}", event=event.id)
    db.session.commit()
    return True


def withdraw_from_event(demand: Demand, event, actor: User) -> bool:
    """Takes the demand off the event; False when it was not presented there. Matches already
    made at the event keep their event."""
    from .models import event_demands

    result = db.session.execute(event_demands.delete().where(event_demands.c.event_id == event.id,
                                                             event_demands.c.demand_id == demand.id))
    if not result.rowcount:
        db.session.rollback()
        return False
    _audit(actor, "demand.withdraw", "demand", demand.id, name=f"#{demand.id}", event=event.id)
    db.session.commit()
    return True
