"""Report periods: a named year, quarter or month ("2025", "2025-Q4", "2025-11") or a range of days.

A period is a range of calendar days, both ends included. Days are the bureau's days: the app's
time zone (``BABEL_DEFAULT_TIMEZONE``), not the viewer's, so that HQ in Hangzhou and a volunteer in
Milan count the same leads in "2025" — and a closed period's snapshot means one thing.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

YEAR, QUARTER, MONTH, RANGE = "year", "quarter", "month", "range"
MIN_YEAR, MAX_YEAR = 2000, 2100

_NAMED = re.compile(r"^([0-9]{4})(?:-(?:[Qq]([1-4])|([0-9]{1,2})))?$")


class PeriodError(ValueError):
    """Input that names no period; ``str(error)`` is the message for the field."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    kind: str
    key: str  # "2025", "2025-Q4", "2025-11", or "2025-01-01..2025-03-15"

    @property
    def closable(self) -> bool:
        return self.kind != RANGE

    @property
    def label(self) -> str:
        if self.kind == YEAR:
            return _("%(year)d", year=self.first.year)
        if self.kind == QUARTER:
            return _("Q%(quarter)d %(year)d", quarter=(self.first.month - 1) // 3 + 1, year=self.first.year)
        if self.kind == MONTH:
            return _("%(year)d-%(month)02d", year=self.first.year, month=self.first.month)
        return _("%(first)s to %(last)s", first=self.first.isoformat(), last=self.last.isoformat())

    @property
    def chinese_label(self) -> str:
        """The period as a Chinese report names it: 2025年, 2025年第四季度, 2025年11月."""
        if self.kind == YEAR:
            return f"{self.first.year}年"
        if self.kind == QUARTER:
            return f"{self.first.year}年第{'一二三四'[(self.first.month - 1) // 3]}季度"
        if self.kind == MONTH:
            return f"{self.first.year}年{self.first.month}月"
        return f"{self.first.year}年{self.first.month}月{self.first.day}日至{self.last.year}年{self.last.month}月{self.last.day}日"

    @property
    def english_label(self) -> str:
        if self.kind == YEAR:
            return str(self.first.year)
        if self.kind == QUARTER:
            return f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"
        if self.kind == MONTH:
            return self.first.strftime("%B %Y")
        return f"{self.first.isoformat()} to {self.last.isoformat()}"

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """``[start, end)`` in naive UTC, as the timestamps are stored."""
        return utc_start(self.first), utc_start(self.last + timedelta(days=1))

    def months(self) -> list[str]:
        """Every month the period touches, "YYYY-MM", in order."""
        found, year, month = [], self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


def bureau_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")


def utc_start(day: date) -> datetime:
    local = datetime.combine(day, time.min).replace(tzinfo=bureau_zone())
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def utc_offset_hours(period: Period) -> float:
    """The bureau's offset from UTC at the period's start (months are grouped with it)."""
    offset = datetime.combine(period.first, time(12)).replace(tzinfo=bureau_zone()).utcoffset()
    return (offset or timedelta()).total_seconds() / 3600


def named(text: str) -> Period:
    """Parse "2025", "2025-Q4" or "2025-11" (also "2025-q4", "2025-3", and full-width forms typed
    with a Chinese input method, "２０２５－Ｑ４"); raise ``PeriodError``."""
    match = _NAMED.match(unicodedata.normalize("NFKC", text or "").strip())
    if not match:
        raise PeriodError(_("Write a year (2025), a quarter (2025-Q4) or a month (2025-11)."))
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(_("Choose a year from %(first)d to %(last)d.", first=MIN_YEAR, last=MAX_YEAR))
    if match.group(2):
        quarter = int(match.group(2))
        first = date(year, 3 * quarter - 2, 1)
        return Period(first, _month_end(year, 3 * quarter), QUARTER, f"{year}-Q{quarter}")
    if match.group(3):
        month = int(match.group(3))
        if not 1 <= month <= 12:
            raise PeriodError(_("A month is 1 to 12."))
        return Period(date(year, month, 1), _month_end(year, month), MONTH, f"{year}-{month:02d}")
    return Period(date(year, 1, 1), date(year, 12, 31), YEAR, str(year))


def between(first: date, last: date) -> Period:
    if last < first:
        raise PeriodError(_("The end of the period is before its start."))
    if first.year < MIN_YEAR or last.year > MAX_YEAR:
        raise PeriodError(_("Choose a year from %(first)d to %(last)d.", first=MIN_YEAR, last=MAX_YEAR))
    return Period(first, last, RANGE, f"{first.isoformat()}..{last.isoformat()}")


def default(today: date) -> Period:
    return named(str(today.year))


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)
