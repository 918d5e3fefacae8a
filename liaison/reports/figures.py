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


def _sqlite_percentiles(durations, keys: tuple[str, ...] = ("metric",)):
    """percentile_cont(p) per ``keys`` (the metric; or the set and the metric): the values at
    ranks floor(p(n−1)) and the next, interpolated."""
    partition = [durations.c[k] for k in keys]
    ranked = select(
        *partition, durations.c.days,
        (func.row_number().over(partition_by=partition, order_by=durations.c.days) - 1).label("k"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery("r")
    picks = [*[ranked.c[k] for k in keys], func.max(ranked.c.n).label("n")]
    for label, p in PERCENTILES:
        low = cast(p * (ranked.c.n - 1), Integer)
        picks += [func.max(case((ranked.c.k == low, ranked.c.days))).label(f"{label}_low"),
                  func.max(case((ranked.c.k == low + 1, ranked.c.days))).label(f"{label}_high")]
    picked = select(*picks).group_by(*[ranked.c[k] for k in keys]).subquery("a")
    columns = [*[picked.c[k] for k in keys], picked.c.n]
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


# Per-station figures (a closed period's snapshot) ----------------------------------------------
#
# Closing keeps, besides the bureau's and each region's figures, the figures of every station in
# a compact, additive form — so that the report of any set of stations (one station, a
# volunteer's stations) can be put together from the snapshot (``combine``) exactly as ``compute``
# would have counted it then. Each is one statement grouped by station over the whole bureau:
# never a query per station. The times (median, 90th percentile) do not add up: they are counted
# per station and per set of several stations one volunteer holds, in one statement too.

def station_parts(period: Period) -> dict[str, Any]:
    """``{"statuses": [...], "categories": [...], "parts": {station_id (text): part}}``; a part
    holds the station's non-zero counts only, months as lists over ``period.months()``:
    ``cohort`` {status: [n per category]}, ``months`` [submitted per month], ``landed``
    {kind: [n per month]}, ``moved`` {status: n} and ``contacts`` {kind: {country: n}}."""
    whole = Selection(period, None, None)
    months = period.months()
    month_index = {m: i for i, m in enumerate(months)}
    parts: dict[str, dict[str, Any]] = {}

    def part(station_id) -> dict[str, Any]:
        return parts.setdefault(str(station_id), {})

    groups = _per_station(whole)
    cube = [(status, station_id, category, _int(n)) for status, station_id, category, n in
            db.session.execute(select(groups))]
    statuses, categories = sorted({row[0] for row in cube}), sorted({row[2] for row in cube})
    category_index = {c: i for i, c in enumerate(categories)}
    for status, station_id, category, n in cube:
        row = part(station_id).setdefault("cohort", {}).setdefault(status, [0] * len(categories))
        row[category_index[category]] += n
    month = _month(TalentLead.submitted_at, utc_offset_hours(period)).label("month")
    for station_id, m, n in db.session.execute(
            select(TalentLead.station_id, month, func.count()).where(*whole.lead_conditions(covered=False))
            .group_by(TalentLead.station_id, month)):
        if m in month_index:
            part(station_id).setdefault("months", [0] * len(months))[month_index[m]] += _int(n)
    landed_month = _month(TalentLead.landed_on).label("month")
    for station_id, kind, m, n in db.session.execute(
            select(TalentLead.station_id, TalentLead.landing_kind, landed_month, func.count())
            .where(TalentLead.status == S.LANDED, TalentLead.landed_on >= period.first,
                   TalentLead.landed_on <= period.last)
            .group_by(TalentLead.station_id, TalentLead.landing_kind, landed_month)):
        if m in month_index:
            part(station_id).setdefault("landed", {}).setdefault(kind or "", [0] * len(months))[month_index[m]] += _int(n)
    start, end = period.utc_bounds()
    firsts = (select(LeadEvent.to_status, LeadEvent.lead_id, TalentLead.station_id,
                     func.min(LeadEvent.created_at).label("at"))
              .join(TalentLead, TalentLead.id == LeadEvent.lead_id)
              .where(LeadEvent.to_status.in_([S.ACCEPTED.value, S.REFERRED.value]))
              .group_by(LeadEvent.to_status, LeadEvent.lead_id, TalentLead.station_id)).subquery("f")
    for station_id, status, n in db.session.execute(
            select(firsts.c.station_id, firsts.c.to_status, func.count(distinct(firsts.c.lead_id)))
            .where(and_(firsts.c.at >= start, firsts.c.at < end)).group_by(firsts.c.station_id, firsts.c.to_status)):
        part(station_id).setdefault("moved", {})[status] = _int(n)
    for station_id, kind, country, n in db.session.execute(
            select(Contact.station_id, Contact.kind, Contact.country, func.count())
            .where(Contact.created_at >= start, Contact.created_at < end)
            .group_by(Contact.station_id, Contact.kind, Contact.country)):
        by_country = part(station_id).setdefault("contacts", {}).setdefault(kind, {})
        by_country[country or ""] = by_country.get(country or "", 0) + _int(n)
    return {"statuses": statuses, "categories": categories, "parts": parts}


def set_key(station_ids) -> str:
    return ",".join(str(s) for s in sorted(set(station_ids)))


def times_by_set(period: Period, sets: list[tuple[int, ...]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``times`` of every station (keyed "7") and of each set of several stations in ``sets``
    (keyed "3,7"), those with no duration left out — one statement: the durations of the
    period's cohort, joined to a small (set, station) table and ranked per set and metric."""
    from sqlalchemy import String, column, values

    whole = Selection(period, None, None)
    cohort = (select(TalentLead.id, TalentLead.submitted_at, TalentLead.station_id)
              .where(*whole.lead_conditions(covered=False)).subquery("cohort"))
    first = func.min(LeadEvent.created_at)
    if _dialect() == "postgresql":
        days = extract("epoch", first - cohort.c.submitted_at) / 86400.0
    else:
        days = func.julianday(first) - func.julianday(cohort.c.submitted_at)
    lead_durations = (select(cohort.c.station_id, LeadEvent.to_status.label("metric"), cast(days, Float).label("days"))
                      .join(cohort, cohort.c.id == LeadEvent.lead_id)
                      .where(LeadEvent.to_status.in_([status for _name, status in TIMES]))
                      .group_by(LeadEvent.to_status, LeadEvent.lead_id, cohort.c.submitted_at, cohort.c.station_id)
                      ).cte("lead_durations")
    single = select(cast(lead_durations.c.station_id, String).label("grp"), lead_durations.c.metric,
                    lead_durations.c.days)
    rows = [(set_key(s), station_id) for s in sets if len(set(s)) > 1 for station_id in sorted(set(s))]
    if rows:
        members = values(column("grp", String), column("station_id", Integer), name="report_sets").data(rows).cte(
            "report_sets")
        several = (select(members.c.grp, lead_durations.c.metric,
                          lead_durations.c.days)
                   .select_from(lead_durations.join(members, members.c.station_id == lead_durations.c.station_id)))
        durations = single.union_all(several).subquery("d")
    else:
        durations = single.subquery("d")
    if _dialect() == "postgresql":
        stmt = select(durations.c.grp, durations.c.metric, func.count(),
                      *[func.percentile_cont(p).within_group(durations.c.days) for _n, p in PERCENTILES]
                      ).group_by(durations.c.grp, durations.c.metric)
    else:
        stmt = _sqlite_percentiles(durations, ("grp", "metric"))
    found: dict[str, dict[str, tuple]] = {}
    for grp, metric, n, *values_ in db.session.execute(stmt):
        found.setdefault(grp, {})[metric] = (n, values_)
    return {grp: _times_result(metrics) for grp, metrics in found.items()}


def _times_result(found: dict[str, tuple]) -> dict[str, dict[str, Any]]:
    result = {}
    for name, status in TIMES:
        n, values_ = found.get(status, (0, [None] * len(PERCENTILES)))
        result[name] = {"count": _int(n), **{label: (round(float(v), 2) if v is not None else None)
                                             for (label, _p), v in zip(PERCENTILES, values_)}}
    return result


def combine(period: Period, station_ids, kept: dict[str, Any], whole: dict[str, Any]) -> dict[str, Any] | None:
    """The figures of ``station_ids`` as ``compute`` counted them when the snapshot ``kept``
    (``station_parts`` with ``"times": times_by_set``) was taken, with the bureau's figures
    ``whole`` of the same snapshot (the ranking and review deadlines are per station there).
    ``None`` when the times of this set of stations were not kept (a set of several stations
    that no volunteer held then, two or more of them with leads of the period)."""
    ids = sorted(set(station_ids))
    chosen = {str(s) for s in ids}
    times_kept = kept.get("times", {})
    with_times = [s for s in ids if str(s) in times_kept]
    if len(with_times) <= 1:
        times_ = times_kept.get(str(with_times[0])) if with_times else _times_result({})
    else:
        times_ = times_kept.get(set_key(ids)) or times_kept.get(set_key(with_times))
    if times_ is None:
        return None
    parts = [kept.get("parts", {}).get(key, {}) for key in sorted(chosen)]
    categories = kept.get("categories", [])
    month_names = period.months()
    cube: dict[tuple[str, str], int] = {}
    months: dict[str, int] = {}
    landed_kind: dict[str, int] = {}
    landed_month: dict[str, int] = {}
    moved: dict[str, int] = {}
    contacts_kind: dict[str, int] = {}
    contacts_country: dict[str, int] = {}
    for part in parts:
        for status, counts in part.get("cohort", {}).items():
            for category, n in zip(categories, counts):
                if n:
                    cube[status, category] = cube.get((status, category), 0) + n
        for m, n in zip(month_names, part.get("months", [])):
            months[m] = months.get(m, 0) + n
        for kind, counts in part.get("landed", {}).items():
            for m, n in zip(month_names, counts):
                if n:
                    landed_kind[kind] = landed_kind.get(kind, 0) + n
                    landed_month[m] = landed_month.get(m, 0) + n
        for status, n in part.get("moved", {}).items():
            moved[status] = moved.get(status, 0) + n
        for kind, by_country in part.get("contacts", {}).items():
            for country, n in by_country.items():
                contacts_kind[kind] = contacts_kind.get(kind, 0) + n
                contacts_country[country] = contacts_country.get(country, 0) + n
    figures: dict[str, Any] = {"period": period.key}
    by_status: dict[str, int] = {}
    categories: dict[str, dict[str, int]] = {}
    for (status, category), n in cube.items():
        by_status[status] = by_status.get(status, 0) + n
        row = categories.setdefault(category, dict.fromkeys(STAGES, 0))
        for stage in STAGES:
            if status in REACHED[stage]:
                row[stage] += n
    figures["by_status"] = by_status
    figures["by_category"] = [{"category": c, **categories[c]} for c in sorted(categories)]
    stations = [dict(row) for row in whole.get("by_station", []) if str(row["station_id"]) in chosen]
    for rank, row in enumerate(stations, 1):
        row["rank"] = rank
    figures["by_station"] = stations
    figures["by_region"] = by_region(stations)
    figures["totals"] = {stage: sum(row[stage] for row in figures["by_category"]) for stage in STAGES}
    figures["funnel"] = funnel(figures["totals"])
    figures["landings_by_kind"] = dict(sorted(landed_kind.items()))
    figures["by_month"] = [{"month": m, "submitted": months.get(m, 0), "landed": landed_month.get(m, 0)}
                           for m in period.months()]
    figures["times"] = times_
    figures["contacts_by_kind"] = dict(sorted(contacts_kind.items()))
    figures["contacts_by_country"] = dict(sorted(contacts_country.items(), key=lambda item: (-item[1], item[0])))
    on_time_ = whole.get("on_time")
    if on_time_ is not None:
        on_time_ = {**on_time_, "by_station": [dict(row) for row in on_time_.get("by_station", [])
                                               if str(row["station_id"]) in chosen]}
        figures["on_time"] = on_time_
    figures["summary"] = {
        "contacts": sum(contacts_kind.values()),
        "submitted": sum(by_status.values()),
        "accepted": moved.get(S.ACCEPTED.value, 0),
        "referred": moved.get(S.REFERRED.value, 0),
        "landed": sum(landed_kind.values()),
        "landed_by_kind": dict(sorted(landed_kind.items())),
    }
    return figures
