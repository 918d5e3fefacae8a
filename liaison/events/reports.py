"""The events' figures on the report page (the core's ``liaison_report_sections``), over the
report's stations and period: events by kind, by organising station and by region — events held,
participants, leads from them and how many of those landed, demand matches made at them — and a
table per event (invited, registered, attended, walk-ins, participants, leads, landed later,
matches). Every figure is counted in SQL (GROUP BY), never one query per event.

* Which events: those that started in the period, cancelled ones left out. For a selection of
  stations: the events one of them organises, and the events organised by a region whose stations
  are all in the selection (a region's report, a regional admin's own report; not a volunteer's).
  HQ's own events belong to no region: they count in the whole bureau's report only.
* Per event, the figures follow ``liaison.events.services.figures`` (tests/test_events_reports.py
  checks them against it): invited = invitations sent; registered = seats held by registrations
  other than walk-ins; attended = checked in; walk-ins; **participants** = the figure recorded
  after the event, or until then the people checked in.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select, union

from ..i18n import display_name
from ..models import LeadStatus, Region, Station, TalentLead, db
from ..models.base import rarely
from ..reports.sections import ReportSection, ReportTable
from . import kinds
from .models import (SEAT_STATUSES, AttendanceStatus, Event, EventRegistration, EventStation, EventStatus, Organiser,
                     RegistrationSource)

PER_EVENT_LIMIT = 200  # rows of the per-event table (the earliest events of the period)


def covered_regions(stations) -> list[int]:
    """The regions every station of which is among ``stations`` (one query)."""
    chosen = set(stations)
    if not chosen:
        return []
    regions: dict[int, bool] = {}
    for station_id, region_id in db.session.execute(
            select(Station.id, Station.region_id).where(Station.region_id.in_(
                select(Station.region_id).where(Station.id.in_(list(chosen)))))):
        regions[region_id] = regions.get(region_id, True) and station_id in chosen
    return sorted(r for r, all_in in regions.items() if all_in)


def _events_in(period, stations):
    start, end = period.utc_bounds()
    stmt = select(Event.id).where(Event.starts_at >= start, Event.starts_at < end, Event.status != EventStatus.CANCELLED)
    if stations is not None:
        by_station = Event.id.in_(select(EventStation.event_id).where(EventStation.station_id.in_(list(stations))))
        regions = covered_regions(stations)
        if regions:
            stmt = stmt.where(by_station | and_(Event.organiser == Organiser.REGION, Event.region_id.in_(regions)))
        else:
            stmt = stmt.where(by_station)
    return stmt


def _lead_counts(ids):
    return (select(TalentLead.source_event_id.label("event_id"), func.count().label("leads"),
                   func.sum(case((TalentLead.status == LeadStatus.LANDED, 1), else_=0)).label("landed"))
            .where(rarely(TalentLead.source_event_id.is_not(None)), TalentLead.source_event_id.in_(select(ids.c.id)))
            .group_by(TalentLead.source_event_id).subquery("event_leads"))


def _match_counts(ids):
    from ..demands.models import DemandMatch

    return (select(DemandMatch.event_id.label("event_id"), func.count().label("matches"))
            .where(DemandMatch.event_id.in_(select(ids.c.id))).group_by(DemandMatch.event_id).subquery("event_matches"))


def _registration_counts(ids):
    """Per event: invited, registered, attended, walk-ins — ``services.counts``' definitions."""
    R = EventRegistration
    seat = [s.value for s in SEAT_STATUSES]

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    return (select(R.event_id.label("event_id"),
                   count(R.source == RegistrationSource.INVITATION.value).label("invited"),
                   count(and_(R.status.in_(seat), R.source != RegistrationSource.WALK_IN.value)).label("registered"),
                   count(R.status == AttendanceStatus.ATTENDED.value).label("attended"),
                   count(R.source == RegistrationSource.WALK_IN.value).label("walk_ins"))
            .where(R.event_id.in_(select(ids.c.id))).group_by(R.event_id).subquery("event_people"))


def _int(value) -> int:
    return int(value or 0)


def section(period, stations) -> ReportSection:
    ids = _events_in(period, stations).subquery("chosen")
    leads, matches, people = _lead_counts(ids), _match_counts(ids), _registration_counts(ids)
    # The participants' rule of ``services.figures``: recorded after the event, else checked in.
    participants = func.coalesce(Event.participants, people.c.attended, 0)
    per_event = [func.count(Event.id), func.sum(participants), func.sum(func.coalesce(leads.c.leads, 0)),
                 func.sum(func.coalesce(leads.c.landed, 0)), func.sum(func.coalesce(matches.c.matches, 0))]

    def counted(stmt):
        return (stmt.join(ids, ids.c.id == Event.id).outerjoin(leads, leads.c.event_id == Event.id)
                .outerjoin(matches, matches.c.event_id == Event.id).outerjoin(people, people.c.event_id == Event.id))

    def numbers(row) -> list[int]:
        return [_int(v) for v in row]

    by_kind = db.session.execute(counted(select(Event.kind, *per_event).select_from(Event))
                                 .group_by(Event.kind).order_by(Event.kind)).all()
    kind_rows = [[kinds.label_of(kind), *numbers(rest)] for kind, *rest in by_kind]
    total = sum(_int(n) for _kind, n, *_rest in by_kind)

    by_station = db.session.execute(
        counted(select(EventStation.station_id, *per_event).select_from(Event)
                .join(EventStation, EventStation.event_id == Event.id))
        .where(*([EventStation.station_id.in_(list(stations))] if stations is not None else []))
        .group_by(EventStation.station_id)).all()
    station_names = {s.id: s for s in db.session.scalars(select(Station).where(
        Station.id.in_([row[0] for row in by_station])))}
    by_station = sorted(by_station, key=lambda row: (station_names[row[0]].sort_key or "", row[0]))
    station_rows = [[display_name(station_names[sid]), *numbers(rest)] for sid, *rest in by_station]

    # An event's regions: the region organising it, or its organising stations' regions.
    pairs = union(select(Event.id.label("event_id"), Event.region_id.label("region_id"))
                  .where(Event.region_id.is_not(None), Event.id.in_(select(ids.c.id))),
                  select(EventStation.event_id, Station.region_id).join(Station, Station.id == EventStation.station_id)
                  .where(EventStation.event_id.in_(select(ids.c.id)))).subquery("event_regions")
    by_region = db.session.execute(
        counted(select(pairs.c.region_id, *per_event).select_from(Event)
                .outerjoin(pairs, pairs.c.event_id == Event.id))
        .group_by(pairs.c.region_id)).all()
    region_names = {r.id: r for r in db.session.scalars(select(Region).where(
        Region.id.in_([row[0] for row in by_region if row[0] is not None])))}
    by_region = sorted(by_region, key=lambda row: (row[0] is None, region_names[row[0]].code if row[0] else ""))
    region_rows = [[display_name(region_names[rid]) if rid is not None else str(_l("HQ")), *numbers(rest)]
                   for rid, *rest in by_region]

    events = db.session.execute(
        counted(select(Event.id, Event.kind, Event.title, Event.title_zh, Event.starts_at, Event.timezone,
                       func.coalesce(people.c.invited, 0), func.coalesce(people.c.registered, 0),
                       func.coalesce(people.c.attended, 0), func.coalesce(people.c.walk_ins, 0), participants,
                       func.coalesce(leads.c.leads, 0), func.coalesce(leads.c.landed, 0),
                       func.coalesce(matches.c.matches, 0)).select_from(Event))
        .order_by(Event.starts_at, Event.id).limit(PER_EVENT_LIMIT)).all()
    event_rows = [[display_name(title, title_zh), kinds.label_of(kind), _local_date(starts_at, zone), *numbers(rest)]
                  for _id, kind, title, title_zh, starts_at, zone, *rest in events]
    per_event_note = _l("Every event of the period, by date; participants as recorded after the event, or the "
                        "people checked in until then. Landed later: leads from the event that have landed since.")
    if total > PER_EVENT_LIMIT:
        per_event_note = _l("The first %(shown)s of the period's %(total)s events, by date (the CSV has the same "
                            "rows); participants as recorded after the event, or the people checked in until then.",
                            shown=PER_EVENT_LIMIT, total=total)

    columns = [_l("Events"), _l("Participants"), _l("Leads from events"), _l("Of them landed"),
               _l("Matches made at events")]
    return ReportSection(_l("Events"), [
        ReportTable("events.by_kind", _l("Events by kind"), [_l("Kind"), *columns], kind_rows,
                    keys=[kind for kind, *_rest in by_kind], chart="bar", series=(1, 2),
                    note=_l("Events that started in the period (cancelled ones left out); participants as recorded "
                            "after the event, or the people checked in until then.")),
        ReportTable("events.by_station", _l("Events by organising station"), [_l("Station"), *columns], station_rows,
                    keys=[str(sid) for sid, *_rest in by_station], chart="bar", series=(1, 3),
                    note=_l("An event organised by several stations counts for each.")),
        ReportTable("events.by_region", _l("Events by region"), [_l("Region"), *columns], region_rows,
                    keys=[str(rid) if rid is not None else "hq" for rid, *_rest in by_region], chart="bar",
                    series=(1, 3),
                    note=_l("The organising region, or the regions of the organising stations (an event counts for "
                            "each); HQ's own events apart.")),
        ReportTable("events.per_event", _l("Figures per event"),
                    [_l("Event"), _l("Kind"), _l("Date"), _l("Invited"), _l("Registered"), _l("Attended"),
                     _l("Walk-ins"), _l("Participants"), _l("Leads created"), _l("Landed later"), _l("Matches")],
                    event_rows, keys=[str(row[0]) for row in events], chart=None, note=per_event_note),
    ], order=20)


def _local_date(starts_at, zone: str | None) -> str:
    """The event's day where it takes place."""
    from datetime import timezone
    from zoneinfo import ZoneInfo

    try:
        tz = ZoneInfo(zone or "UTC")
    except Exception:  # an unknown zone name: UTC
        tz = timezone.utc
    return starts_at.replace(tzinfo=timezone.utc).astimezone(tz).date().isoformat()


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
