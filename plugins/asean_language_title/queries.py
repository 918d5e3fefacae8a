"""Reading title applications: always within the user's scope *and* the stations where the
plugin is active, in a fixed number of queries whatever the number of rows."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, extract, func, select
from sqlalchemy.orm import selectinload

from liaison.models import User, db
from liaison.scope import scoped

from .choices import KNOWN_LANGUAGES, OPEN_STATUSES, PLUGIN, Level, Route, Status
from .models import TitleApplication

AT_LEAST = "+"  # "associate_senior+" means Associate Senior Translator and above


def visible(user: User | None = None, stmt: Select | None = None) -> Select:
    stmt = stmt if stmt is not None else select(TitleApplication)
    return scoped(stmt, TitleApplication, user, plugin=PLUGIN)


def level_codes(choice: str | None) -> list[str] | None:
    """Level codes of a level filter: one level, or ``<level>+`` for that level and above."""
    if not choice:
        return None
    code = choice.removesuffix(AT_LEAST)
    if code not in {level.value for level in Level}:
        return None
    return Level.at_least(code) if choice.endswith(AT_LEAST) else [code]


def level_filter_choices() -> list[tuple[str, Any]]:
    exact = [(level.value, level.label) for level in Level]
    above = [(level.value + AT_LEAST, _l("%(level)s and above", level=level.label)) for level in Level if level.rank]
    return exact + above


def _year_range(column, year: int):
    start = datetime(year, 1, 1) if column.type.python_type is datetime else date(year, 1, 1)
    end = start.replace(year=year + 1)
    return (column >= start) & (column < end)


@dataclass
class ListFilters:
    language: str | None = None
    level: str | None = None  # a level_filter_choices value
    route: str | None = None
    status: str | None = None  # a Status value or "open"
    year: int | None = None  # of submission (of creation for drafts)

    @classmethod
    def from_form(cls, form) -> ListFilters:
        return cls(language=form.language.data or None, level=form.level.data or None,
                   route=form.route.data or None, status=form.status.data or None,
                   year=None if form.year.errors else form.year.data)  # a bad year is shown, not used


LIST_OPTIONS = (selectinload(TitleApplication.contact), selectinload(TitleApplication.station))


def filtered(user: User, filters: ListFilters) -> Select:
    stmt = visible(user)
    if filters.language:
        stmt = stmt.where(TitleApplication.language == filters.language)
    levels = level_codes(filters.level)
    if levels:
        stmt = stmt.where(TitleApplication.level.in_(levels))
    if filters.route in {route.value for route in Route}:
        stmt = stmt.where(TitleApplication.route == filters.route)
    if filters.status == "open":
        stmt = stmt.where(TitleApplication.status.in_([status.value for status in OPEN_STATUSES]))
    elif filters.status in {status.value for status in Status}:
        stmt = stmt.where(TitleApplication.status == filters.status)
    if filters.year:
        when = func.coalesce(TitleApplication.submitted_at, TitleApplication.created_at)
        stmt = stmt.where(when >= datetime(filters.year, 1, 1), when < datetime(filters.year + 1, 1, 1))
    return stmt.options(*LIST_OPTIONS).order_by(TitleApplication.status_changed_at.desc(), TitleApplication.id.desc())


def of_contact(contact_id: int) -> list[TitleApplication]:
    """The contact's applications (the contact is already known to be in scope)."""
    stmt = select(TitleApplication).where(TitleApplication.contact_id == contact_id)
    return list(db.session.scalars(stmt.order_by(TitleApplication.id.desc())))


def open_counts(user: User) -> dict[str, int]:
    stmt = visible(user, select(TitleApplication.status, func.count()).select_from(TitleApplication)).where(
        TitleApplication.status.in_([status.value for status in OPEN_STATUSES])
    ).group_by(TitleApplication.status)
    return {status: count for status, count in db.session.execute(stmt)}


def latest_by_contact(user: User) -> dict[int, TitleApplication]:
    """Each contact's most recent application, in two queries (for the contacts export)."""
    latest = visible(user, select(func.max(TitleApplication.id))).group_by(TitleApplication.contact_id)
    stmt = select(TitleApplication).where(TitleApplication.id.in_(latest))
    return {application.contact_id: application for application in db.session.scalars(stmt)}


# Statistics ------------------------------------------------------------------------------------

@dataclass
class StatisticsFilters:
    year: int | None = None
    language: str | None = None
    level: str | None = None  # a level_filter_choices value
    route: str | None = None


@dataclass
class StatisticsRow:
    year: int
    language: str
    level: str
    route: str
    applications: int = 0  # submitted that year
    granted: int = 0  # titles granted (passed) that year


@dataclass
class Statistics:
    rows: list[StatisticsRow] = field(default_factory=list)
    by_year: dict[int, dict[str, int]] = field(default_factory=dict)

    @property
    def applications(self) -> int:
        return sum(row.applications for row in self.rows)

    @property
    def granted(self) -> int:
        return sum(row.granted for row in self.rows)


def _grouped(user: User, year_column, filters: StatisticsFilters, *conditions) -> Select:
    year = extract("year", year_column)
    stmt = visible(user, select(year, TitleApplication.language, TitleApplication.level, TitleApplication.route,
                                func.count()).select_from(TitleApplication))
    stmt = stmt.where(year_column.is_not(None), *conditions)
    if filters.year:
        stmt = stmt.where(_year_range(year_column, filters.year))
    if filters.language:
        stmt = stmt.where(TitleApplication.language == filters.language)
    levels = level_codes(filters.level)
    if levels:
        stmt = stmt.where(TitleApplication.level.in_(levels))
    if filters.route:
        stmt = stmt.where(TitleApplication.route == filters.route)
    return stmt.group_by(year, TitleApplication.language, TitleApplication.level, TitleApplication.route)


def statistics(user: User, filters: StatisticsFilters) -> Statistics:
    """Applications (by year of submission) and titles granted (by year of the decision), by
    year × language × level × route — two grouped queries."""
    rows: dict[tuple, StatisticsRow] = {}

    def row(year, language, level, route) -> StatisticsRow:
        key = (int(year), language, level, route)
        if key not in rows:
            rows[key] = StatisticsRow(*key)
        return rows[key]

    for year, language, level, route, count in db.session.execute(
            _grouped(user, TitleApplication.submitted_at, filters)):
        row(year, language, level, route).applications += count
    for year, language, level, route, count in db.session.execute(
            _grouped(user, TitleApplication.decision_date, filters, TitleApplication.status == Status.PASSED)):
        row(year, language, level, route).granted += count
    language_order = {code: number for number, code in enumerate(KNOWN_LANGUAGES)}
    ordered = sorted(rows.values(), key=lambda r: (
        -r.year, language_order.get(r.language, len(language_order)), r.language, Level(r.level).rank, r.route))
    by_year: dict[int, dict[str, int]] = defaultdict(lambda: {"applications": 0, "granted": 0})
    for item in ordered:
        by_year[item.year]["applications"] += item.applications
        by_year[item.year]["granted"] += item.granted
    return Statistics(ordered, dict(by_year))
