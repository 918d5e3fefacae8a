"""The report's figures, each computed in SQL (GROUP BY, window functions), never by loading rows.

Which leads count:

* **The cohort** — leads *submitted* in the period (drafts never count): by status, category,
  station, region and month, the funnel submitted → accepted → referred → landed and the times
  from submission to the first review, to acceptance and to landing. A lead "reached" a stage if
  it is there now or went further along the main path (``REACHED``; a lead closed as lost had
  been accepted).
* **What happened in the period** — the bureau summary's figures: contacts added, leads
  submitted, leads accepted and referred (their first such move in the period, from the
  timeline) and landings (the landing date in the period), by kind.

The counts over leads read ``ix_leads_report`` (status, station_id, category, submitted_at,
landing_kind, landed_on) and no table row; the times read ``ix_lead_events_to_status``.
Percentiles: PostgreSQL's ``percentile_cont``; SQLite has none, so the two ranks around
``p × (n − 1)`` are picked with ``ROW_NUMBER() / COUNT() OVER`` and interpolated in the same
query — the same definition, so both databases give the same figures.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, and_, case, cast, distinct, extract, func, select
from sqlalchemy.ext.compiler import compiles

from ..models import Contact, LeadEvent, LeadStatus, Region, Station, TalentLead, db
from .periods import Period, utc_offset_hours

S = LeadStatus
STAGES = ("submitted", "accepted", "referred", "landed")
REACHED: dict[str, tuple[str, ...]] = {
    # Every lead of the cohort was submitted (withdrawn ones too: they were in HQ's hands).
    "submitted": tuple(s.value for s in S if s is not S.DRAFT),
    "accepted": (S.ACCEPTED.value, S.REFERRED.value, S.LANDED.value, S.CLOSED_LOST.value),
    "referred": (S.REFERRED.value, S.LANDED.value),
    "landed": (S.LANDED.value,),
}
TIMES = (("review", S.UNDER_REVIEW.value), ("acceptance", S.ACCEPTED.value), ("landing", S.LANDED.value))
PERCENTILES = (("median", 0.5), ("p90", 0.9))
MANY_STATIONS = 20


@dataclass(frozen=True)
class Selection:
    """What the report covers: the period, the stations (``None``: every station) and a category."""

    period: Period
    station_ids: tuple[int, ...] | None
    category: str | None = None

    def lead_conditions(self, *, by_submission: bool = True, covered: bool = True) -> list:
        conditions = []
        if by_submission:
            start, end = self.period.utc_bounds()
            submitted = _NotIndexed(TalentLead.submitted_at) if covered else TalentLead.submitted_at
            conditions += [submitted >= start, submitted < end]
        if self.station_ids is not None:
            # A few stations: their leads through the station indexes. Many (a region): the
            # covering scan reads less than fetching each of their leads' rows.
            many = covered and len(self.station_ids) > MANY_STATIONS
            station = _NotIndexed(TalentLead.station_id) if many else TalentLead.station_id
            conditions.append(station.in_(self.station_ids))
        if self.category:
            conditions.append(TalentLead.category == self.category)
        return conditions


def _dialect() -> str:
    return db.session.get_bind().dialect.name


class _NotIndexed(ColumnElement):
    """A column SQLite must not choose an index for (``+column``); plain elsewhere.

    The report's counts over leads read ``ix_leads_report`` (status, station_id, category,
    submitted_at, landing_kind, landed_on): a covering index, so no table row is read. Given a
    range on ``submitted_at``, SQLite's planner would rather take ``ix_leads_submitted`` and read
    every lead of the period from the table — several times slower at 100,000 leads. PostgreSQL's
    planner weighs index-only scans itself."""

    inherit_cache = True

    def __init__(self, column) -> None:
        self.column = column
        self.type = column.type

    def get_children(self, **kw):
        return (self.column,)


@compiles(_NotIndexed)
def _not_indexed(element, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


@compiles(_NotIndexed, "sqlite")
def _not_indexed_sqlite(element, compiler, **kw) -> str:
    return "+" + compiler.process(element.column, **kw)


def _per_station(selection: Selection):
    """The cohort counted per (status, station, category) — the order of ``ix_leads_report``, so
    the count walks that index alone, with no sort. The figures by status, category and station
    are sums over these (at most a few thousand) groups, in SQL."""
    return (select(TalentLead.status, TalentLead.station_id, TalentLead.category, func.count().label("n"))
            .where(*selection.lead_conditions())
            .group_by(TalentLead.status, TalentLead.station_id, TalentLead.category)).subquery("per_station")


def _stage_sums(groups) -> list:
    return [func.sum(case((groups.c.status.in_(REACHED[stage]), groups.c.n), else_=0)).label(stage)
            for stage in STAGES]


def _month(column, hours: float = 0.0):
    """"YYYY-MM" of a timestamp (shifted by the bureau's offset) or of a date."""
    if _dialect() == "postgresql":
        if hours:
            column = column + func.make_interval(0, 0, 0, 0, 0, int(hours * 60))
        return func.to_char(column, "YYYY-MM")
    if hours:
        return func.strftime("%Y-%m", column, f"{int(hours * 60):+d} minutes")
    return func.strftime("%Y-%m", column)


def _int(value) -> int:
    return int(value or 0)


def compute(selection: Selection) -> dict[str, Any]:
    """Every figure of the report, as plain JSON-able data (the closed periods' snapshot)."""
    figures: dict[str, Any] = {"period": selection.period.key}
    figures["by_status"] = by_status(selection)
    figures["by_category"] = by_category(selection)
    figures["by_station"] = by_station(selection)
    figures["by_region"] = by_region(figures["by_station"])
    figures["totals"] = {stage: sum(row[stage] for row in figures["by_category"]) for stage in STAGES}
    figures["funnel"] = funnel(figures["totals"])
    landed = landings(selection)
    figures["landings_by_kind"] = landed["by_kind"]
    figures["by_month"] = by_month(selection, landed["by_month"])
    figures["times"] = times(selection)
    contacts = contacts_by(selection)
    figures["contacts_by_kind"] = contacts["by_kind"]
    figures["contacts_by_country"] = contacts["by_country"]
    moved = moved_in_period(selection)
    figures["on_time"] = on_time(selection)
    figures["summary"] = {
        "contacts": sum(contacts["by_kind"].values()),
        "submitted": sum(figures["by_status"].values()),
        "accepted": moved.get(S.ACCEPTED.value, 0),
        "referred": moved.get(S.REFERRED.value, 0),
        "landed": sum(landed["by_kind"].values()),
        "landed_by_kind": dict(landed["by_kind"]),
    }
    return figures


# The cohort ---------------------------------------------------------------------------------

def by_status(selection: Selection) -> dict[str, int]:
    groups = _per_station(selection)
    stmt = select(groups.c.status, func.sum(groups.c.n)).group_by(groups.c.status)
    return {status: _int(n) for status, n in db.session.execute(stmt)}


def by_category(selection: Selection) -> list[dict[str, Any]]:
    groups = _per_station(selection)
    stmt = select(groups.c.category, *_stage_sums(groups)).group_by(groups.c.category).order_by(groups.c.category)
    return [{"category": row.category, **{stage: _int(getattr(row, stage)) for stage in STAGES}}
            for row in db.session.execute(stmt)]


def by_station(selection: Selection) -> list[dict[str, Any]]:
    """One row per station with leads in the cohort, ranked: landed, accepted, submitted, name."""
    groups = _per_station(selection)
    per_station = select(groups.c.station_id, *_stage_sums(groups)).group_by(groups.c.station_id).subquery()
    stmt = (select(per_station, Station.name, Station.name_zh, Region.code.label("region"),
                   Region.name.label("region_name"), Region.name_zh.label("region_name_zh"))
            .join(Station, Station.id == per_station.c.station_id).join(Region, Region.id == Station.region_id)
            .order_by(per_station.c.landed.desc(), per_station.c.accepted.desc(), per_station.c.submitted.desc(),
                      Station.sort_key, Station.id))
    rows = []
    for rank, row in enumerate(db.session.execute(stmt), 1):
        rows.append({"rank": rank, "station_id": row.station_id, "name": row.name, "name_zh": row.name_zh,
                     "region": row.region, "region_name": row.region_name, "region_name_zh": row.region_name_zh,
                     **{stage: _int(getattr(row, stage)) for stage in STAGES}})
    return rows


def by_region(stations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Summed from the (at most a few hundred) station rows: no second pass over the leads."""
    regions: dict[str, dict[str, Any]] = {}
    for row in stations:
        region = regions.setdefault(row["region"], {"region": row["region"], "name": row["region_name"],
                                                    "name_zh": row["region_name_zh"], **dict.fromkeys(STAGES, 0)})
        for stage in STAGES:
            region[stage] += row[stage]
    return [regions[code] for code in sorted(regions)]


def funnel(totals: dict[str, int]) -> list[dict[str, Any]]:
    """Each stage with its rate from the previous stage and from submission (None: nothing to divide)."""
    rows, previous = [], None
    for stage in STAGES:
        count = totals.get(stage, 0)
        rows.append({"stage": stage, "count": count,
                     "rate": _rate(count, totals.get(previous, 0)) if previous else None,
                     "overall": _rate(count, totals.get("submitted", 0)) if previous else None})
        previous = stage
    return rows


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def by_month(selection: Selection, landed_by_month: dict[str, int]) -> list[dict[str, Any]]:
    month = _month(TalentLead.submitted_at, utc_offset_hours(selection.period)).label("month")
    # (submitted_at, id) and (station_id, submitted_at, id) cover this one: the period's range.
    stmt = select(month, func.count()).where(*selection.lead_conditions(covered=False)).group_by(month)
    submitted = {m: _int(n) for m, n in db.session.execute(stmt)}
    return [{"month": m, "submitted": submitted.get(m, 0), "landed": landed_by_month.get(m, 0)}
            for m in selection.period.months()]


def times(selection: Selection) -> dict[str, dict[str, Any]]:
    """Median and 90th percentile of the days from submission to the first review, acceptance and
    landing, over the cohort's leads that got there — one query for the three."""
    cohort = (select(TalentLead.id, TalentLead.submitted_at).where(*selection.lead_conditions(covered=False))
              .subquery("cohort"))
    first = func.min(LeadEvent.created_at)
    if _dialect() == "postgresql":
        days = extract("epoch", first - cohort.c.submitted_at) / 86400.0
    else:
        days = func.julianday(first) - func.julianday(cohort.c.submitted_at)
    durations = (select(LeadEvent.to_status.label("metric"), cast(days, Float).label("days"))
                 .join(cohort, cohort.c.id == LeadEvent.lead_id)
                 .where(LeadEvent.to_status.in_([status for _name, status in TIMES]))
                 .group_by(LeadEvent.to_status, LeadEvent.lead_id, cohort.c.submitted_at)).subquery("d")
    if _dialect() == "postgresql":
        stmt = select(durations.c.metric, func.count(),
                      *[func.percentile_cont(p).within_group(durations.c.days) for _n, p in PERCENTILES]
                      ).group_by(durations.c.metric)
    else:
        stmt = _sqlite_percentiles(durations)
    found = {metric: (n, values) for metric, n, *values in db.session.execute(stmt)}
    result = {}
    for name, status in TIMES:
        n, values = found.get(status, (0, [None] * len(PERCENTILES)))
        result[name] = {"count": _int(n), **{label: (round(float(v), 2) if v is not None else None)
                                             for (label, _p), v in zip(PERCENTILES, values)}}
    return result


def _sqlite_percentiles(durations):
    """percentile_cont(p) per metric: the values at ranks floor(p(n−1)) and the next, interpolated."""
    ranked = select(
        durations.c.metric, durations.c.days,
        (func.row_number().over(partition_by=durations.c.metric, order_by=durations.c.days) - 1).label("k"),
        func.count().over(partition_by=durations.c.metric).label("n"),
    ).subquery("r")
    picks = [ranked.c.metric, func.max(ranked.c.n).label("n")]
    for label, p in PERCENTILES:
        low = cast(p * (ranked.c.n - 1), Integer)
        picks += [func.max(case((ranked.c.k == low, ranked.c.days))).label(f"{label}_low"),
                  func.max(case((ranked.c.k == low + 1, ranked.c.days))).label(f"{label}_high")]
    picked = select(*picks).group_by(ranked.c.metric).subquery("a")
    columns = [picked.c.metric, picked.c.n]
    for label, p in PERCENTILES:
        low, high = picked.c[f"{label}_low"], func.coalesce(picked.c[f"{label}_high"], picked.c[f"{label}_low"])
        fraction = p * (picked.c.n - 1) - cast(p * (picked.c.n - 1), Integer)
        columns.append(low + (high - low) * fraction)
    return select(*columns)


# What happened in the period -----------------------------------------------------------------

def landings(selection: Selection) -> dict[str, dict[str, int]]:
    """Leads that landed in the period (by their landing date), by kind and by month."""
    month = _month(TalentLead.landed_on).label("month")
    stmt = (select(TalentLead.landing_kind, month, func.count())
            .where(TalentLead.status == S.LANDED, TalentLead.landed_on >= selection.period.first,
                   TalentLead.landed_on <= selection.period.last, *selection.lead_conditions(by_submission=False))
            .group_by(TalentLead.landing_kind, month))
    by_kind: dict[str, int] = {}
    by_month_: dict[str, int] = {}
    for kind, m, n in db.session.execute(stmt):
        by_kind[kind or ""] = by_kind.get(kind or "", 0) + _int(n)
        by_month_[m] = by_month_.get(m, 0) + _int(n)
    return {"by_kind": dict(sorted(by_kind.items())), "by_month": by_month_}


def moved_in_period(selection: Selection) -> dict[str, int]:
    """Leads accepted and referred in the period: their first such move falls in it."""
    start, end = selection.period.utc_bounds()
    firsts = (select(LeadEvent.to_status, LeadEvent.lead_id, func.min(LeadEvent.created_at).label("at"))
              .where(LeadEvent.to_status.in_([S.ACCEPTED.value, S.REFERRED.value])))
    conditions = selection.lead_conditions(by_submission=False)
    if conditions:
        firsts = firsts.join(TalentLead, TalentLead.id == LeadEvent.lead_id).where(*conditions)
    firsts = firsts.group_by(LeadEvent.to_status, LeadEvent.lead_id).subquery("f")
    stmt = (select(firsts.c.to_status, func.count(distinct(firsts.c.lead_id)))
            .where(and_(firsts.c.at >= start, firsts.c.at < end)).group_by(firsts.c.to_status))
    return {status: _int(n) for status, n in db.session.execute(stmt)}


def contacts_by(selection: Selection) -> dict[str, dict[str, int]]:
    """Contacts added in the period, by kind and by country (erased ones still count)."""
    start, end = selection.period.utc_bounds()
    stmt = select(Contact.kind, Contact.country, func.count()).where(Contact.created_at >= start, Contact.created_at < end)
    if selection.station_ids is not None:
        stmt = stmt.where(Contact.station_id.in_(selection.station_ids))
    by_kind: dict[str, int] = {}
    by_country: dict[str, int] = {}
    for kind, country, n in db.session.execute(stmt.group_by(Contact.kind, Contact.country)):
        by_kind[kind] = by_kind.get(kind, 0) + _int(n)
        by_country[country or ""] = by_country.get(country or "", 0) + _int(n)
    return {"by_kind": dict(sorted(by_kind.items())),
            "by_country": dict(sorted(by_country.items(), key=lambda item: (-item[1], item[0])))}



# Review deadlines kept -----------------------------------------------------------------------

def on_time(selection: Selection, now: datetime | None = None) -> dict[str, Any]:
    """The review deadlines (``liaison.notifications.deadlines``) kept in the period, per status
    with a deadline and per station (counted in SQL, one statement):

    * ``on_time`` / ``late`` — stays in the status that ended in the period (the lead moved on),
      before or after their deadline;
    * ``open_overdue`` — stays still open at the end of the period (now, for a period not yet
      over) and past their deadline then.

    A stay runs from the status event that entered it to the lead's next status event. Deadlines
    are those in force now, in working days (Chinese calendar) or calendar days as configured."""
    from ..assignment import workdays
    from ..models import LeadEventKind, utcnow
    from ..notifications.deadlines import deadline_days

    days = deadline_days()
    if not days:
        return {"statuses": [], "by_station": []}
    start, end = selection.period.utc_bounds()
    as_of = min(end, now or utcnow())
    events = LeadEvent.__table__
    # One ordered pass over the status events (``ix_lead_events_status_timeline`` covers it, in
    # the window's order): each stay with the moment the lead's next status event ended it.
    timeline = (select(events.c.lead_id, events.c.to_status.label("status"), events.c.created_at.label("entered_at"),
                       func.lead(events.c.created_at).over(partition_by=events.c.lead_id,
                                                           order_by=(events.c.created_at, events.c.id))
                       .label("left_at"))
                .where(events.c.kind == LeadEventKind.STATUS,
                       # Only leads a counted stay can belong to: one that ended in the period
                       # moved the lead since its start; one still open is the lead's status or
                       # ended after the period (both: the lead moved since the start).
                       events.c.lead_id.in_(select(TalentLead.id).where(
                           (TalentLead.status_changed_at >= start) | TalentLead.status.in_(list(days)))))
                ).subquery("timeline")
    stays = (select(timeline.c.status, timeline.c.entered_at, timeline.c.left_at, TalentLead.station_id)
             .join(TalentLead, TalentLead.id == timeline.c.lead_id)
             .where(timeline.c.status.in_(list(days)), timeline.c.entered_at < as_of,
                    *selection.lead_conditions(by_submission=False, covered=False))).subquery("stays")
    if workdays.enabled():
        due = _working_due(stays, days, selection.period, as_of)
        due_column, stmt_from = due.c.due, stays.outerjoin(due, and_(due.c.status == stays.c.status,
                                                                       due.c.day == _local_day(stays.c.entered_at)))
        # Before the calendar's first day: due long before the period began (late, overdue).
        before = lambda moment: func.coalesce(due_column < moment, True)  # noqa: E731
        on_or_before_due = lambda moment: func.coalesce(moment <= due_column, False)  # noqa: E731
    else:
        stmt_from = stays
        deadline = case(*[(stays.c.status == status, n) for status, n in days.items()], else_=0)
        if _dialect() == "postgresql":
            due_column = stays.c.entered_at + func.make_interval(0, 0, 0, deadline)
            before = lambda moment: due_column < moment  # noqa: E731
            on_or_before_due = lambda moment: moment <= due_column  # noqa: E731
        else:
            due_jd = func.julianday(stays.c.entered_at) + deadline
            before = lambda moment: due_jd < func.julianday(moment)  # noqa: E731
            on_or_before_due = lambda moment: func.julianday(moment) <= due_jd  # noqa: E731
    ended = and_(stays.c.left_at >= start, stays.c.left_at < end)
    still_open = (stays.c.left_at.is_(None)) | (stays.c.left_at >= as_of)
    counted = (select(stays.c.status, stays.c.station_id,
                      func.sum(case((and_(ended, on_or_before_due(stays.c.left_at)), 1), else_=0)).label("on_time"),
                      func.sum(case((and_(ended, ~on_or_before_due(stays.c.left_at)), 1), else_=0)).label("late"),
                      func.sum(case((and_(still_open, before(as_of)), 1), else_=0)).label("open_overdue"))
               .select_from(stmt_from).group_by(stays.c.status, stays.c.station_id)).subquery("counted")
    stmt = (select(counted, Station.name, Station.name_zh, Region.code.label("region"),
                   Region.name.label("region_name"), Region.name_zh.label("region_name_zh"))
            .select_from(counted)
            .join(Station, Station.id == counted.c.station_id).join(Region, Region.id == Station.region_id)
            .where((counted.c.on_time > 0) | (counted.c.late > 0) | (counted.c.open_overdue > 0))
            .order_by(Region.code, Station.sort_key, Station.id))
    rows: list[dict[str, Any]] = []
    for row in db.session.execute(stmt):
        if not rows or rows[-1]["station_id"] != row.station_id:
            rows.append({"station_id": row.station_id, "name": row.name, "name_zh": row.name_zh,
                         "region": row.region, "region_name": row.region_name,
                         "region_name_zh": row.region_name_zh, "by_status": {}})
        rows[-1]["by_status"][row.status] = {"on_time": _int(row.on_time), "late": _int(row.late),
                                             "open_overdue": _int(row.open_overdue)}
    return {"statuses": list(days), "days": days, "working_days": workdays.enabled(), "by_station": rows,
            "as_of": as_of.isoformat(timespec="seconds")}


def _local_day(column):
    """The bureau's calendar day ("YYYY-MM-DD") of a stored UTC timestamp, at the deadline time
    zone's offset (fixed: Asia/Shanghai has no summer time)."""
    from ..assignment import workdays

    offset = workdays.zone().utcoffset(datetime.now()) or timedelta()
    minutes = int(offset.total_seconds() // 60)
    if _dialect() == "postgresql":
        return func.to_char(column + func.make_interval(0, 0, 0, 0, 0, minutes), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, f"{minutes:+d} minutes")


def _working_due(stays, days: dict[str, int], period: Period, as_of: datetime):
    """(status, local day, due) for every day a counted stay may have begun on since its
    deadline could still fall in the period — a few hundred rows, computed with the Chinese
    calendar and joined in SQL."""
    from sqlalchemy import DateTime, String, column, values

    from ..assignment import workdays

    rows = []
    last = (as_of + timedelta(days=1)).date()
    for status, n in days.items():
        day = period.first - timedelta(days=2 * n + 30)
        while day <= last:
            rows.append((status, day.isoformat(), workdays.due_at(workdays._utc_midnight(day, workdays.zone()), n)))
            day += timedelta(days=1)
    return values(column("status", String), column("day", String), column("due", DateTime),
                  name="deadline_calendar").data(rows).cte("deadline_calendar")
