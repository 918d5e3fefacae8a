"""Lead queries shared by the lead list, the review queue, the home pages and the exports.

Filters map to indexed columns (``status``, ``station_id``, ``category``, ``reviewer_id``,
``submitted_at``, ``priority``); the free-text search is served by the search index
(``liaison/search.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, literal_column, select

from ..models import LeadStatus, Region, Station, TalentLead, User, db
from ..i18n import utc_start_of
from ..params import parse_id
from ..scope import scoped
from .. import search

SORTS = {
    # NULLS LAST: drafts have no submission date; SQLite and PostgreSQL differ without it.
    "-submitted": (TalentLead.submitted_at.desc().nulls_last(), TalentLead.id.desc()),
    "submitted": (TalentLead.submitted_at.asc().nulls_last(), TalentLead.id.asc()),
    "-priority": (TalentLead.priority.desc(), TalentLead.submitted_at.desc().nulls_last(), TalentLead.id.desc()),
    "-updated": (TalentLead.updated_at.desc(), TalentLead.id.desc()),
}


@dataclass
class LeadFilters:
    q: str | None = None
    status: str | None = None
    region: str | None = None
    station_id: int | None = None
    category: str | None = None
    reviewer: str | None = None  # a user id, "me" or "none"
    submitted_from: date | None = None
    submitted_to: date | None = None
    sort: str = "-submitted"

    @classmethod
    def from_form(cls, form, default_sort: str = "-submitted") -> LeadFilters:
        station = form.station.data or ""
        return cls(
            q=form.q.data or None,
            status=form.status.data or None,
            region=form.region.data or None,
            station_id=parse_id(station),
            category=form.category.data or None,
            reviewer=form.reviewer.data or None,
            submitted_from=form.submitted_from.data,
            submitted_to=form.submitted_to.data,
            sort=form.sort.data if form.sort.data in SORTS else default_sort,
        )


def submitted_between(stmt: Select, first_day: date | None, last_day: date | None) -> Select:
    """Leads submitted from ``first_day`` to ``last_day`` inclusive — days of the user's calendar,
    the same days the pages show."""
    if first_day:
        stmt = stmt.where(TalentLead.submitted_at >= utc_start_of(first_day))
    if last_day:
        stmt = stmt.where(TalentLead.submitted_at < utc_start_of(last_day + timedelta(days=1)))
    return stmt


def filtered_leads(user: User, filters: LeadFilters) -> Select:
    stmt = scoped(select(TalentLead), TalentLead, user)
    if filters.status == "open":
        stmt = stmt.where(TalentLead.status.in_([s.value for s in LeadStatus if s.is_open]))
    elif filters.status:
        stmt = stmt.where(TalentLead.status == filters.status)
    if filters.region:
        stmt = stmt.where(TalentLead.station_id.in_(
            select(Station.id).join(Region).where(Region.code == filters.region)))
    if filters.station_id:
        stmt = stmt.where(TalentLead.station_id == filters.station_id)
    if filters.category:
        stmt = stmt.where(TalentLead.category == filters.category)
    if filters.reviewer == "none":
        stmt = stmt.where(TalentLead.reviewer_id.is_(None))
    elif filters.reviewer == "me":
        stmt = stmt.where(TalentLead.reviewer_id == user.id)
    elif parse_id(filters.reviewer):
        stmt = stmt.where(TalentLead.reviewer_id == parse_id(filters.reviewer))
    stmt = submitted_between(stmt, filters.submitted_from, filters.submitted_to)
    if filters.q:
        # Indexed: the lead's summary/field, its contact's names/organisation/e-mail, or "#id".
        narrowed = bool(filters.station_id or filters.region or (filters.status and filters.status != "open"))
        stmt = stmt.where(search.lead_condition(filters.q, narrowed=narrowed))
    return stmt.order_by(*SORTS.get(filters.sort, SORTS["-submitted"]))


def status_counts(user: User, station_id: int | None = None, cap: int | None = None,
                  statuses=None) -> dict[str, int]:
    """Leads per status in the user's scope, in one query.

    With ``cap`` (the list pages pass ``pagination.COUNT_CAP``), each status is counted through
    the ``(status, …)`` / ``(station_id, status)`` indexes up to ``cap + 1`` rows — a few thousand
    index entries however many leads there are, where a ``GROUP BY status`` reads every lead's
    entry (~35 ms at 100,000 leads) on every view. Show a value above ``cap`` as "1,000+"
    (the ``capped`` filter). Without ``cap``: exact, one ``GROUP BY`` (reports, exports)."""
    if cap is None:
        stmt = scoped(select(TalentLead.status, func.count()), TalentLead, user).group_by(TalentLead.status)
        if station_id:
            stmt = stmt.where(TalentLead.station_id == station_id)
        return dict(db.session.execute(stmt).all())
    values = [getattr(status, "value", status) for status in (statuses or LeadStatus)]
    columns = []
    for index, value in enumerate(values):
        rows = scoped(select(literal_column("1")).select_from(TalentLead), TalentLead, user).where(
            TalentLead.status == value)
        if station_id:
            rows = rows.where(TalentLead.station_id == station_id)
        columns.append(select(func.count()).select_from(rows.limit(cap + 1).subquery())
                       .scalar_subquery().label(f"n{index}"))
    counts = db.session.execute(select(*columns)).one()
    return {value: number for value, number in zip(values, counts) if number}
