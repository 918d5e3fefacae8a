"""Review deadlines: how long a lead may stay in a status (calendar days, ``LEAD_DEADLINE_DAYS``)
and the reminder sent once when it stays longer.

* ``submitted`` — HQ starts the review within 5 days (the reviewer, else all of HQ, is reminded);
* ``needs_info`` — the station answers HQ's question within 14 days (the station is reminded);
* ``accepted`` — HQ refers the lead within 30 days (the reviewer, else all of HQ).

``jobs run-due`` queues one reminder per lead and stay in a status (the job's key holds the
moment the status was entered), so a lead that moves on and comes back is reminded again.
``overdue_condition`` and ``due_at`` are for lists and badges.

Before the deadline: ``LEAD_DEADLINE_REMINDER_DAYS`` (default 2; a number, or one per status;
0 turns it off) days before it — working days when deadlines count working days — the same
people get a "due soon" reminder (kind ``lead_due_soon``), also once per lead and stay.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload

from .. import jobs
from ..assignment import workdays
from ..models import Channel, LeadStatus, TalentLead, db, utcnow
from . import mail
from .kinds import CORE_KINDS, NotificationKind

CORE_KINDS.append(NotificationKind(
    "lead_due_soon", _l("A lead's deadline is near"),
    _l("Lead #%(lead)s (%(station)s) is “%(status)s”: its deadline is the end of %(due)s."), Channel.EMAIL,
    _l("The reviewer (all of HQ while nobody is assigned); the station for HQ's questions.")))
CORE_KINDS.append(NotificationKind(
    "lead_overdue", _l("A lead is past its deadline"),
    _l("Lead #%(lead)s (%(station)s) has been “%(status)s” for more than %(days)s days."), Channel.EMAIL,
    _l("The reviewer (all of HQ while nobody is assigned) and the HQ supervisors of the settings; the station "
       "for HQ's questions.")))

MAX_PER_RUN = 1000


_STATUS_VALUES = frozenset(s.value for s in LeadStatus)


def configured_days() -> dict[str, int]:
    """The defaults from the configuration (``LEAD_DEADLINE_DAYS``)."""
    days = current_app.config.get("LEAD_DEADLINE_DAYS") or {}
    return {status: int(n) for status, n in days.items() if status in _STATUS_VALUES and int(n) > 0}


def configured_reminder_days(status: str) -> int:
    setting = current_app.config.get("LEAD_DEADLINE_REMINDER_DAYS", 2)
    value = setting.get(status, 0) if isinstance(setting, dict) else setting
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def stored() -> dict[str, tuple[int, int]]:
    """HQ's deadlines set in the app (``LeadDeadline``): status -> (days, reminder days); read once
    per request or job (``forget_stored`` after a change)."""
    from flask import g

    from ..models import LeadDeadline

    if "_lead_deadlines" not in g:
        g._lead_deadlines = {status: (days, before) for status, days, before in db.session.execute(
            select(LeadDeadline.status, LeadDeadline.days, LeadDeadline.reminder_days))}
    return g._lead_deadlines


def forget_stored() -> None:
    from flask import g

    g.pop("_lead_deadlines", None)
    g.pop("_lead_deadline_days", None)


def deadline_days() -> dict[str, int]:
    """Status -> days allowed in it: HQ's setting where there is one (0: no deadline), else the
    configured default. Worked out once per request or job (a queue page asks for every row);
    the caller must not change the dict."""
    from flask import g

    if "_lead_deadline_days" not in g:
        g._lead_deadline_days = _deadline_days()
    return g._lead_deadline_days


def _deadline_days() -> dict[str, int]:
    days = configured_days()
    for status, (n, _before) in stored().items():
        if n > 0:
            days[status] = n
        else:
            days.pop(status, None)
    order = {s.value: i for i, s in enumerate(LeadStatus)}
    return dict(sorted(days.items(), key=lambda item: order.get(item[0], 99)))


def reminder_days() -> dict[str, int]:
    """Per deadlined status, how many days before its deadline the "due soon" reminder goes out
    (statuses without one left out)."""
    kept = stored()
    found = {}
    for status in deadline_days():
        value = kept[status][1] if status in kept else configured_reminder_days(status)
        if value > 0:
            found[status] = value
    return found


def save(values: dict, actor) -> bool:
    """HQ's deadlines: status -> (days, reminder days), or None for the configured default (the
    row goes). Audited with before and after; commits. False when nothing changed."""
    from ..models import AuditEntry, LeadDeadline

    before = {status: list(v) for status, v in stored().items()}
    rows = {row.status: row for row in db.session.scalars(select(LeadDeadline))}
    for status, value in values.items():
        row = rows.get(status)
        if value is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(LeadDeadline(status=status, days=value[0], reminder_days=value[1], updated_by_id=actor.id))
        else:
            row.days, row.reminder_days, row.updated_by_id = value[0], value[1], actor.id
    db.session.flush()
    forget_stored()
    after = {status: list(v) for status, v in stored().items()}
    if after == before:
        db.session.rollback()
        forget_stored()
        return False
    db.session.add(AuditEntry(actor_id=actor.id, action="deadlines.update", object_type="lead_deadlines",
                              details={"before": before, "after": after}))
    db.session.commit()
    forget_stored()
    return True


def _cutoff(now: datetime, days: int) -> datetime:
    """Leads that entered a status before this instant have been in it longer than ``days``
    (working or calendar days, as configured)."""
    return workdays.overdue_before(now, days) if workdays.enabled() else now - timedelta(days=days)


def due_at(lead: TalentLead) -> datetime | None:
    """When ``lead`` is due to leave its status (naive UTC), or None without a deadline."""
    days = deadline_days().get(lead.status)
    if days and workdays.enabled():  # LEAD_DEADLINE_WORKING_DAYS: Chinese working days
        return workdays.due_at(lead.status_changed_at, days)
    return lead.status_changed_at + timedelta(days=days) if days else None


def is_overdue(lead: TalentLead, now: datetime | None = None) -> bool:
    due = due_at(lead)
    return due is not None and due < (now or utcnow())


def overdue_condition(now: datetime | None = None):
    """A WHERE clause: the leads past their deadline."""
    now = now or utcnow()
    terms = [and_(TalentLead.status == status, TalentLead.status_changed_at < _cutoff(now, days))
             for status, days in deadline_days().items()]
    return or_(*terms) if terms else false()


def due_soon_condition(now: datetime | None = None):
    """A WHERE clause: the leads whose deadline is at most their reminder's days away and not
    yet passed — they have been in their status longer than (deadline − reminder) days."""
    now = now or utcnow()
    days = deadline_days()
    terms = [and_(TalentLead.status == status,
                  TalentLead.status_changed_at < _cutoff(now, max(days[status] - before, 0)),
                  TalentLead.status_changed_at >= _cutoff(now, days[status]))
             for status, before in reminder_days().items()]
    return or_(*terms) if terms else false()


def _queue(job: str, prefix: str, condition) -> int:
    """Queue ``job`` once per lead and stay in a status matching ``condition``: the leads are read
    in batches, the keys already queued are looked up per batch (not per lead), and at most
    ``MAX_PER_RUN`` new jobs are queued per run — the rest next run."""
    from ..models import JobRun

    queued, after = 0, 0
    while queued < MAX_PER_RUN:
        rows = db.session.execute(select(TalentLead.id, TalentLead.status, TalentLead.status_changed_at)
                                  .where(condition, TalentLead.id > after)
                                  .order_by(TalentLead.id).limit(MAX_PER_RUN)).all()
        if not rows:
            break
        after = rows[-1][0]
        keys = {row[0]: f"{prefix}:{row[0]}:{row[1]}:{row[2].isoformat()}" for row in rows}
        known = set(db.session.scalars(select(JobRun.key).where(JobRun.key.in_(list(keys.values())))))
        for lead_id, key in keys.items():
            if key not in known and queued < MAX_PER_RUN:
                jobs.enqueue(job, key=key, lead_id=lead_id)
                queued += 1
    return queued


@jobs.scheduled("notifications.overdue")
def queue_overdue_reminders() -> int:
    return _queue("notifications.overdue", "overdue", overdue_condition())


@jobs.scheduled("notifications.due_soon")
def queue_due_soon_reminders() -> int:
    if not reminder_days():
        return 0
    return _queue("notifications.due_soon", "due_soon", due_soon_condition())


def _recipients(lead: TalentLead) -> set[int]:
    from .services import hq_ids, station_volunteer_ids

    if lead.status == LeadStatus.NEEDS_INFO:
        return station_volunteer_ids(lead.station_id) | ({lead.submitter_id} if lead.submitter_id else set())
    return {lead.reviewer_id} if lead.reviewer_id else hq_ids()


def also_notified_of_overdue() -> set[int]:
    """The HQ supervisors told of every overdue lead besides its reviewer: the active HQ
    accounts whose e-mail is in ``LEAD_OVERDUE_ALSO_NOTIFY`` (a list, or one comma-separated
    string, e.g. ``LIAISON_LEAD_OVERDUE_ALSO_NOTIFY='["lead@hq.example.org"]'``; default none)."""
    from ..models import Role, User

    setting = current_app.config.get("LEAD_OVERDUE_ALSO_NOTIFY") or []
    if isinstance(setting, str):
        setting = setting.split(",")
    emails = sorted({str(item).strip().lower() for item in setting if str(item).strip()})
    if not emails:
        return set()
    return set(db.session.scalars(select(User.id).where(
        func.lower(User.email).in_(emails), User.active.is_(True),
        User.role.in_([Role.HQ_REVIEWER, Role.ADMIN]))))


def last_day(due: datetime) -> date:
    """The bureau's last day before ``due`` (a local midnight when counting working days)."""
    return (due.replace(tzinfo=timezone.utc).astimezone(workdays.zone()) - timedelta(seconds=1)).date()


@jobs.job("notifications.due_soon")
def due_soon_job(lead_id: int) -> int:
    from .services import deliver

    lead = db.session.scalar(select(TalentLead).where(TalentLead.id == lead_id)
                             .options(selectinload(TalentLead.station)))
    if lead is None or lead.status not in reminder_days():
        return 0
    due = due_at(lead)
    if due is None or due < utcnow():
        return 0  # moved on, or already overdue (the overdue reminder says so)
    params = {"lead": lead.id, "station_name": lead.station.name, "station_name_zh": lead.station.name_zh,
              "status": lead.status, "due": last_day(due).isoformat(), "days": deadline_days()[lead.status]}
    return deliver("lead_due_soon", _recipients(lead), station_id=lead.station_id, lead_id=lead.id, params=params,
                   path=mail.app_path("leads.detail", lead_id=lead.id))


@jobs.job("notifications.overdue")
def overdue_job(lead_id: int) -> int:
    from .services import deliver

    lead = db.session.scalar(select(TalentLead).where(TalentLead.id == lead_id)
                             .options(selectinload(TalentLead.station)))
    if lead is None or not is_overdue(lead):
        return 0  # moved on meanwhile
    users = _recipients(lead) | also_notified_of_overdue()
    params = {"lead": lead.id, "station_name": lead.station.name, "station_name_zh": lead.station.name_zh,
              "status": lead.status, "days": deadline_days()[lead.status]}
    return deliver("lead_overdue", users, station_id=lead.station_id, lead_id=lead.id, params=params,
                   path=mail.app_path("leads.detail", lead_id=lead.id))
