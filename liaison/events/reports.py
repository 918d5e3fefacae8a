"""The events' figures on the report page (the core's ``liaison_report_sections``): events by
kind and by organising station in the period — events held, participants, leads from them and
how many of those landed, demand matches made at them. Counted in SQL (GROUP BY), over the report's stations."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from ..i18n import display_name
from ..models import LeadStatus, Station, TalentLead, db
from ..models.base import rarely
from ..reports.sections import ReportSection, ReportTable
from . import kinds
from .models import Event, EventStation, EventStatus


def _events_in(period, stations):
    start, end = period.utc_bounds()
    stmt = select(Event.id).where(Event.starts_at >= start, Event.starts_at < end, Event.status != EventStatus.CANCELLED)
    if stations is not None:
        stmt = stmt.where(Event.id.in_(select(EventStation.event_id).where(EventStation.station_id.in_(list(stations)))))
    return stmt


def _lead_counts():
    return (select(TalentLead.source_event_id.label("event_id"), func.count().label("leads"),
                   func.sum(case((TalentLead.status == LeadStatus.LANDED, 1), else_=0)).label("landed"))
            .where(rarely(TalentLead.source_event_id.is_not(None))).group_by(TalentLead.source_event_id).subquery())


def _match_counts():
    from ..demands.models import DemandMatch

    return (select(DemandMatch.event_id.label("event_id"), func.count().label("matches"))
            .where(DemandMatch.event_id.is_not(None)).group_by(DemandMatch.event_id).subquery())


def section(period, stations) -> ReportSection:
    ids = _events_in(period, stations).subquery()
    leads = _lead_counts()
    matches = _match_counts()
    participants = func.coalesce(Event.participants, 0)
    sums = (func.sum(participants), func.sum(func.coalesce(leads.c.leads, 0)),
            func.sum(func.coalesce(leads.c.landed, 0)), func.sum(func.coalesce(matches.c.matches, 0)))
    by_kind = db.session.execute(
        select(Event.kind, func.count(Event.id), *sums)
        .join(ids, ids.c.id == Event.id).outerjoin(leads, leads.c.event_id == Event.id)
        .outerjoin(matches, matches.c.event_id == Event.id)
        .group_by(Event.kind).order_by(Event.kind)).all()
    kind_rows = [[kinds.label_of(kind), int(n), int(p or 0), int(l or 0), int(d or 0), int(m or 0)]
                 for kind, n, p, l, d, m in by_kind]
    by_station = db.session.execute(
        select(Station, func.count(Event.id), *sums)
        .join(EventStation, EventStation.station_id == Station.id).join(Event, Event.id == EventStation.event_id)
        .join(ids, ids.c.id == Event.id).outerjoin(leads, leads.c.event_id == Event.id)
        .outerjoin(matches, matches.c.event_id == Event.id)
        .where(*([Station.id.in_(list(stations))] if stations is not None else []))
        .group_by(Station.id).order_by(Station.name)).all()
    station_rows = [[display_name(s), int(n), int(p or 0), int(l or 0), int(d or 0), int(m or 0)]
                    for s, n, p, l, d, m in by_station]
    columns = [_l("Events"), _l("Participants"), _l("Leads from events"), _l("Of them landed"),
               _l("Matches made at events")]
    return ReportSection(_l("Events"), [
        ReportTable("events_by_kind", _l("Events by kind"), [_l("Kind"), *columns], kind_rows,
                    keys=[kind for kind, *_rest in by_kind], chart="bar", series=(1, 2),
                    note=_l("Events that started in the period (cancelled ones left out); participants as recorded "
                            "after the event.")),
        ReportTable("events_by_station", _l("Events by organising station"), [_l("Station"), *columns], station_rows,
                    keys=[str(s.id) for s, *_rest in by_station], chart="bar", series=(1, 3),
                    note=_l("An event organised by several stations counts for each.")),
    ], order=20)


def subject_section(contact):
    """The person's event registrations, for their subject access report."""
    from ..privacy.subject import SubjectSection, row
    from .models import EventRegistration

    registrations = db.session.scalars(select(EventRegistration).where(_of_person(contact))
                                       .order_by(EventRegistration.id)).all()
    return [SubjectSection(_l("Event invitations and registrations"),
                           [row(r, skip=("token", "search_text", "sort_name")) for r in registrations])]


def _of_person(contact):
    from sqlalchemy import or_

    from .models import EventRegistration

    conditions = [EventRegistration.contact_id == contact.id]
    if contact.email_normalized:
        conditions.append(EventRegistration.email_normalized == contact.email_normalized)
    if contact.phone_e164:
        conditions.append(EventRegistration.phone_e164 == contact.phone_e164)
    return or_(*conditions)


def erase(contact, erasure):
    """Anonymise the person's registrations (kept, without personal data, for the counts)."""
    from ..privacy.erasure import ErasureOutcome
    from .models import EventRegistration

    for registration in db.session.scalars(select(EventRegistration).where(_of_person(contact))):
        registration.name = "—"
        registration.name_original = registration.email = registration.email_normalized = None
        registration.phone = registration.phone_e164 = registration.organisation = registration.field = None
        registration.country = None
    return ErasureOutcome()
