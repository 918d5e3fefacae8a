"""Review deadlines: how long a lead may stay in a status (calendar days, ``LEAD_DEADLINE_DAYS``)
and the reminder sent once when it stays longer.

* ``submitted`` — HQ starts the review within 5 days (the reviewer, else all of HQ, is reminded);
* ``needs_info`` — the station answers HQ's question within 14 days (the station is reminded);
* ``accepted`` — HQ refers the lead within 30 days (the reviewer, else all of HQ).

``jobs run-due`` queues one reminder per lead and stay in a status (the job's key holds the
moment the status was entered), so a lead that moves on and comes back is reminded again.
``overdue_condition`` and ``due_at`` are for lists and badges.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import selectinload

from .. import jobs
from ..assignment import workdays
from ..models import Channel, LeadStatus, TalentLead, db, utcnow
from . import mail
from .kinds import CORE_KINDS, NotificationKind

CORE_KINDS.append(NotificationKind(
    "lead_overdue", _l("A lead is past its deadline"),
    _l("Lead #%(lead)s (%(station)s) has been “%(status)s” for more than %(days)s days."), Channel.EMAIL,
    _l("The reviewer (all of HQ while nobody is assigned); the station for HQ's questions.")))

MAX_PER_RUN = 1000


def deadline_days() -> dict[str, int]:
    days = current_app.config.get("LEAD_DEADLINE_DAYS") or {}
    return {status: int(n) for status, n in days.items() if status in {s.value for s in LeadStatus} and int(n) > 0}


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
    cutoff = (lambda days: workdays.overdue_before(now, days)) if workdays.enabled() else (
        lambda days: now - timedelta(days=days))
    terms = [and_(TalentLead.status == status, TalentLead.status_changed_at < cutoff(days))
             for status, days in deadline_days().items()]
    return or_(*terms) if terms else false()


@jobs.scheduled("notifications.overdue")
def queue_overdue_reminders() -> int:
    rows = db.session.execute(select(TalentLead.id, TalentLead.status, TalentLead.status_changed_at)
                              .where(overdue_condition()).order_by(TalentLead.id).limit(MAX_PER_RUN)).all()
    for lead_id, status, since in rows:
        jobs.enqueue("notifications.overdue", key=f"overdue:{lead_id}:{status}:{since.isoformat()}", lead_id=lead_id)
    return len(rows)


@jobs.job("notifications.overdue")
def overdue_job(lead_id: int) -> int:
    from .services import deliver, hq_ids, station_volunteer_ids

    lead = db.session.scalar(select(TalentLead).where(TalentLead.id == lead_id)
                             .options(selectinload(TalentLead.station)))
    if lead is None or not is_overdue(lead):
        return 0  # moved on meanwhile
    if lead.status == LeadStatus.NEEDS_INFO:
        users = station_volunteer_ids(lead.station_id) | ({lead.submitter_id} if lead.submitter_id else set())
    else:
        users = {lead.reviewer_id} if lead.reviewer_id else hq_ids()
    params = {"lead": lead.id, "station_name": lead.station.name, "station_name_zh": lead.station.name_zh,
              "status": lead.status, "days": deadline_days()[lead.status]}
    return deliver("lead_overdue", users, station_id=lead.station_id, lead_id=lead.id, params=params,
                   path=mail.app_path("leads.detail", lead_id=lead.id))
