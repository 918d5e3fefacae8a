"""The home page's figures per role ("what needs me now, and how are we doing"): each one SQL
aggregate over indexed columns, a constant number of statements whatever the data; each figure
is a ``liaison.reports.charts.Table`` so its chart is drawn from the rows printed beside it.

* volunteer: my stations' leads by status, contacts I added this month;
* regional admin: the region's stations side by side, stations without activity for 90 days;
* HQ: the queue by age, the funnel this year vs last, landings by month (the last 12).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, func, literal, select

from ..i18n import display_name, utc_start_of
from ..models import Contact, LeadEvent, LeadStatus, Station, TalentLead, User, db
from ..models.base import utcnow
from ..reports import periods
from ..reports.charts import Table
from ..reports.figures import REACHED, STAGES, _month
from ..scope import scoped, visible_station_ids

S = LeadStatus
QUIET_DAYS = 90
QUEUE = (S.SUBMITTED, S.UNDER_REVIEW)
AGE_BUCKETS = ((7, _l("Under a week")), (30, _l("1–4 weeks")), (90, _l("1–3 months")), (None, _l("Over 3 months")))
STAGE_LABELS = {"submitted": _l("Submitted"), "accepted": _l("Accepted"), "referred": _l("Referred"),
                "landed": _l("Landed")}


def my_leads_by_status(user: User) -> Table:
    """The leads of the user's stations by status (drafts: only the user's own)."""
    stmt = scoped(select(TalentLead.status, func.count()), TalentLead, user).where(
        (TalentLead.status != S.DRAFT) | (TalentLead.submitter_id == user.id)).group_by(TalentLead.status)
    counts = {str(status): int(n) for status, n in db.session.execute(stmt)}
    rows = [[str(s.label), counts.get(s.value, 0)] for s in S if counts.get(s.value)]
    return Table("home_status", _l("My stations' leads by status"), [_l("Status"), _l("Leads")], rows,
                 keys=[s.value for s in S if counts.get(s.value)], chart="bar")


def contacts_added_this_month(user: User, today: date) -> int:
    start = utc_start_of(today.replace(day=1))
    return int(db.session.scalar(select(func.count()).select_from(Contact)
                                 .where(Contact.created_by_id == user.id, Contact.created_at >= start)) or 0)


def stations_side_by_side(stations, counts) -> Table:
    """The region's stations, their contacts and open leads (counted once for the list above)."""
    rows = [[display_name(s), counts[s.id]["contacts"], counts[s.id]["open_leads"]] for s in stations]
    return Table("home_stations", _l("Stations side by side"), [_l("Station"), _l("Contacts"), _l("Open leads")],
                 rows, keys=[str(s.id) for s in stations], chart="bar", series=(1, 2))


def quiet_stations(user: User, now: datetime | None = None) -> list[Station]:
    """Active stations in the user's scope with no lead event and no contact added for 90 days."""
    since = (now or utcnow()) - timedelta(days=QUIET_DAYS)
    events = (select(literal(1)).select_from(LeadEvent).join(TalentLead, TalentLead.id == LeadEvent.lead_id)
              .where(TalentLead.station_id == Station.id, LeadEvent.created_at >= since))
    contacts = select(literal(1)).select_from(Contact).where(Contact.station_id == Station.id,
                                                             Contact.created_at >= since)
    stmt = select(Station).where(~exists(events), ~exists(contacts), Station.status == "active")
    visible = visible_station_ids(user)
    if visible is not None:
        stmt = stmt.where(Station.id.in_(visible))
    return list(db.session.scalars(stmt.order_by(Station.sort_key, Station.id).limit(50)))


def queue_by_age(now: datetime | None = None) -> Table:
    """Submitted and under-review leads by the age of their submission: one statement of range
    counts, each served by the (status, submitted_at) index alone — no CASE evaluated per row."""
    now = now or utcnow()
    waiting = TalentLead.status.in_(QUEUE)
    younger = [select(func.count()).select_from(TalentLead).where(waiting, TalentLead.submitted_at > now - timedelta(days=days))
               .scalar_subquery() for days, _label in AGE_BUCKETS if days is not None]
    total = select(func.count()).select_from(TalentLead).where(waiting).scalar_subquery()
    cumulative = [int(n or 0) for n in db.session.execute(select(*younger, total)).one()]
    counts = [cumulative[0]] + [b - a for a, b in zip(cumulative, cumulative[1:])]
    rows = [[str(label), counts[i]] for i, (_days, label) in enumerate(AGE_BUCKETS)]
    return Table("home_queue_age", _l("Queue by age"), [_l("Waiting since submission"), _l("Leads")], rows,
                 keys=[str(i) for i in range(len(AGE_BUCKETS))], chart="bar")


def funnel_years(year: int) -> Table:
    """The funnel of the leads submitted in ``year`` and in the year before: one GROUP BY."""
    last, this = periods.named(str(year - 1)), periods.named(str(year))
    start, _e = last.utc_bounds()
    middle, end = this.utc_bounds()
    which = case((TalentLead.submitted_at >= middle, 1), else_=0).label("which")
    # "status IN (every status)" lets both databases read the (status, submitted_at) index alone
    # instead of fetching each lead of the two years from the table.
    stmt = (select(which, TalentLead.status, func.count())
            .where(TalentLead.status.in_(list(S)), TalentLead.submitted_at >= start, TalentLead.submitted_at < end)
            .group_by(which, TalentLead.status))
    totals = {0: dict.fromkeys(STAGES, 0), 1: dict.fromkeys(STAGES, 0)}
    for w, status, n in db.session.execute(stmt):
        for stage in STAGES:
            if str(status) in REACHED[stage]:
                totals[int(w)][stage] += int(n)
    rows = [[str(STAGE_LABELS[stage]), totals[0][stage], totals[1][stage]] for stage in STAGES]
    return Table("home_funnel", _l("Funnel: this year and last"), [_l("Stage"), str(year - 1), str(year)], rows,
                 keys=list(STAGES), chart="bar", series=(1, 2))


def landings_by_month(today: date) -> Table:
    """Leads landed in each of the last 12 months (their landing date)."""
    first = date(today.year - 1, today.month, 1)
    first = date(first.year + (first.month // 12), first.month % 12 + 1, 1)
    period = periods.between(first, today)
    month = _month(TalentLead.landed_on).label("month")
    stmt = (select(month, func.count()).where(TalentLead.status == S.LANDED, TalentLead.landed_on >= first,
                                              TalentLead.landed_on <= today).group_by(month))
    counts = {m: int(n) for m, n in db.session.execute(stmt)}
    months = period.months()
    return Table("home_landings", _l("Landings by month"), [_l("Month"), _l("Landings")],
                 [[m, counts.get(m, 0)] for m in months], keys=months, chart="line")
