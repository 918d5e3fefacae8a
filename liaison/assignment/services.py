"""Assignment rules: which reviewer a submitted lead goes to, and the workload of reviewers.

``assign_on_submit`` runs inside the submission's transaction (``liaison.leads.services``): the
first active rule (by ``position``) that matches the lead and can name an active HQ reviewer
assigns it. Every automatic assignment is a ``LeadEvent`` of kind ``assigned`` without an actor,
naming the reviewer and the rule; the notifications layer (``liaison.notifications``) tells the
assignee from that event (kind ``lead_assigned``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import selectinload

from .. import concurrency
from ..models import (
    OPEN_LEAD_STATUSES,
    AssignmentRule,
    LeadEvent,
    LeadEventKind,
    LeadStatus,
    Role,
    RuleCriterion,
    RuleStrategy,
    Station,
    TalentLead,
    User,
    db,
    utcnow,
)

# Leads waiting for or in review: what a reviewer's load counts and what bulk re-apply touches.
WORKING_STATUSES = frozenset(OPEN_LEAD_STATUSES) - {LeadStatus.DRAFT}
AGE_BUCKETS = ((7, _l("Under a week")), (30, _l("1–4 weeks")), (90, _l("1–3 months")), (None, _l("Older")))
BULK_LIMIT = 2000


def active_rules(lock: bool = False) -> list[AssignmentRule]:
    """The active rules in order; ``lock`` (PostgreSQL: FOR UPDATE until the commit) keeps two
    simultaneous submissions from taking the same round-robin turn."""
    stmt = (select(AssignmentRule).where(AssignmentRule.active.is_(True))
            .order_by(AssignmentRule.position, AssignmentRule.id)
            .options(selectinload(AssignmentRule.members), selectinload(AssignmentRule.reviewer)))
    return list(db.session.scalars(stmt.with_for_update(of=AssignmentRule) if lock else stmt))


def all_rules() -> list[AssignmentRule]:
    return list(db.session.scalars(
        select(AssignmentRule).order_by(AssignmentRule.position, AssignmentRule.id)
        .options(selectinload(AssignmentRule.members), selectinload(AssignmentRule.reviewer))))


def _eligible(user: User | None) -> bool:
    return user is not None and user.active and user.role in (Role.HQ_REVIEWER, Role.ADMIN)


def matches(rule: AssignmentRule, lead: TalentLead, region_id: int | None) -> bool:
    if rule.criterion == RuleCriterion.ANY:
        return True
    if rule.criterion == RuleCriterion.REGION:
        return rule.region_id is not None and rule.region_id == region_id
    if rule.criterion == RuleCriterion.CATEGORY:
        return rule.category == lead.category
    if rule.criterion == RuleCriterion.STATION:
        return rule.station_id == lead.station_id
    if rule.criterion == RuleCriterion.PLUGIN:
        from ..plugins import activation

        return bool(rule.plugin) and rule.plugin in activation.active_for_station(lead.station_id)
    return False


def open_counts(user_ids: Iterable[int]) -> dict[int, int]:
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(TalentLead.reviewer_id, func.count()).where(
            TalentLead.reviewer_id.in_(ids), TalentLead.status.in_(list(WORKING_STATUSES)))
        .group_by(TalentLead.reviewer_id)).all()
    counts = {i: 0 for i in ids}
    counts.update({reviewer_id: n for reviewer_id, n in rows})
    return counts


def choose(rule: AssignmentRule) -> User | None:
    """The reviewer ``rule`` names now (moving its round-robin turn), or None if it has nobody
    eligible (an inactive reviewer, an empty group)."""
    if rule.strategy == RuleStrategy.REVIEWER:
        return rule.reviewer if _eligible(rule.reviewer) else None
    members = sorted((m for m in rule.members if _eligible(m)), key=lambda m: m.id)
    if not members:
        return None
    if rule.strategy == RuleStrategy.LEAST_LOADED:
        counts = open_counts(m.id for m in members)
        # Ties go round in turn, after the one assigned last.
        last = rule.last_user_id or 0
        chosen = min(members, key=lambda m: (counts[m.id], m.id <= last, m.id))
    else:
        chosen = next((m for m in members if m.id > (rule.last_user_id or 0)), members[0])
    rule.last_user_id = chosen.id
    return chosen


def event_text(reviewer: User, rule: AssignmentRule) -> str:
    return f"{reviewer.name} · #{rule.id} {rule.name}"


def assign_by_rules(lead: TalentLead, rules: list[AssignmentRule] | None = None,
                    region_id: int | None = None) -> AssignmentRule | None:
    """Assign ``lead`` by the first matching rule that names a reviewer; never commits.
    Returns the rule, or None (no rule, or the lead already has a reviewer)."""
    if lead.reviewer_id is not None:
        return None
    rules = active_rules() if rules is None else rules
    if not rules:
        return None
    if region_id is None:
        region_id = db.session.scalar(select(Station.region_id).where(Station.id == lead.station_id))
    for rule in rules:
        if not matches(rule, lead, region_id):
            continue
        reviewer = choose(rule)
        if reviewer is None:
            continue
        lead.reviewer_id = reviewer.id
        db.session.add(LeadEvent(lead=lead, actor_id=None, created_at=utcnow(), kind=LeadEventKind.ASSIGNED,
                                 text=event_text(reviewer, rule)))
        return rule
    return None


def assign_on_submit(lead: TalentLead) -> AssignmentRule | None:
    """Called by the workflow's services inside the transaction that sends a lead to HQ."""
    if lead.status != LeadStatus.SUBMITTED:
        return None
    return assign_by_rules(lead, active_rules(lock=True) if lead.reviewer_id is None else [])


def reapply(limit: int = BULK_LIMIT) -> int:
    """Apply the rules to the open, unassigned leads (oldest first); returns how many got a
    reviewer. One transaction; with the notifications opt-in so CLI runs notify too."""
    rules = active_rules(lock=True)
    if not rules:
        return 0
    rows = db.session.execute(
        select(TalentLead, Station.region_id).join(Station, Station.id == TalentLead.station_id)
        .where(TalentLead.reviewer_id.is_(None), TalentLead.status.in_(list(WORKING_STATUSES)))
        .order_by(TalentLead.submitted_at, TalentLead.id).limit(limit)).all()
    db.session.info["liaison_notify"] = True
    try:
        changed = sum(1 for lead, region_id in rows if assign_by_rules(lead, rules, region_id) is not None)
        with concurrency.commit_or_conflict():
            pass
    finally:
        db.session.info.pop("liaison_notify", None)
    return changed


# Rules CRUD ----------------------------------------------------------------------------------

def save_rule(rule: AssignmentRule, data: dict, members: list[User], actor: User) -> AssignmentRule:
    for name in ("name", "criterion", "strategy", "active", "position"):
        setattr(rule, name, data[name])
    rule.region_id = data.get("region_id") if rule.criterion == RuleCriterion.REGION else None
    rule.station_id = data.get("station_id") if rule.criterion == RuleCriterion.STATION else None
    rule.category = data.get("category") if rule.criterion == RuleCriterion.CATEGORY else None
    rule.plugin = data.get("plugin") if rule.criterion == RuleCriterion.PLUGIN else None
    if rule.strategy == RuleStrategy.REVIEWER:
        rule.reviewer_id = data.get("reviewer_id")
        rule.members = []
    else:
        rule.reviewer_id = None
        rule.members = members
    if rule.id is None:
        rule.created_by_id = actor.id
        db.session.add(rule)
    db.session.commit()
    return rule


def delete_rule(rule: AssignmentRule) -> None:
    db.session.delete(rule)
    db.session.commit()


# Workload ------------------------------------------------------------------------------------

@dataclass
class WorkloadRow:
    reviewer: User | None
    buckets: list[int]
    overdue: int

    @property
    def total(self) -> int:
        return sum(self.buckets)


def workload(now: datetime | None = None) -> list[WorkloadRow]:
    """Open leads (submitted and on) per reviewer by age since submission, and how many are
    overdue: one GROUP BY."""
    from ..notifications.deadlines import overdue_condition

    now = now or utcnow()
    since = func.coalesce(TalentLead.submitted_at, TalentLead.created_at)
    cols, lower = [], None
    for days, _label in AGE_BUCKETS:
        cond = []
        if days is not None:
            cond.append(since > now - timedelta(days=days))
        if lower is not None:
            cond.append(since <= now - timedelta(days=lower))
        cols.append(func.sum(case((and_(true(), *cond), 1), else_=0)))
        lower = days
    cols.append(func.sum(case((overdue_condition(now), 1), else_=0)))
    rows = db.session.execute(
        select(TalentLead.reviewer_id, *cols).where(TalentLead.status.in_(list(WORKING_STATUSES)))
        .group_by(TalentLead.reviewer_id)).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows if r[0]])))}
    result = [WorkloadRow(users.get(r[0]), [int(v or 0) for v in r[1:-1]], int(r[-1] or 0)) for r in rows]
    result.sort(key=lambda row: (row.reviewer is None, row.reviewer.name if row.reviewer else ""))
    return result


# On-time rates (for the reports) -------------------------------------------------------------

def on_time_rates(date_from: datetime | None = None, date_to: datetime | None = None) -> dict[str, tuple[int, int]]:
    """Per deadlined status: (left on time, left in all) among the leads that left that status
    between ``date_from`` and ``date_to`` (naive UTC), by the deadlines in force now. The moment
    a lead entered the status is the previous status event's (a window function)."""
    from ..notifications.deadlines import deadline_days
    from . import workdays

    working = workdays.enabled()
    days = deadline_days()
    status_events = (select(LeadEvent.lead_id, LeadEvent.from_status, LeadEvent.created_at.label("left_at"),
                            func.lag(LeadEvent.created_at, type_=LeadEvent.__table__.c.created_at.type).over(partition_by=LeadEvent.lead_id,
                                                                 order_by=(LeadEvent.created_at, LeadEvent.id))
                            .label("entered_at"))
                     .where(LeadEvent.kind == LeadEventKind.STATUS).subquery())
    stmt = select(status_events.c.from_status, status_events.c.entered_at, status_events.c.left_at).where(
        status_events.c.from_status.in_(list(days)), status_events.c.entered_at.is_not(None))
    if date_from is not None:
        stmt = stmt.where(status_events.c.left_at >= date_from)
    if date_to is not None:
        stmt = stmt.where(status_events.c.left_at < date_to)
    result = {status: (0, 0) for status in days}
    for status, entered_at, left_at in db.session.execute(stmt):
        n = days[status]
        due = workdays.due_at(entered_at, n) if working else entered_at + timedelta(days=n)
        on_time, total = result[status]
        result[status] = (on_time + (left_at <= due), total + 1)
    return result
