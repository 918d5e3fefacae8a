"""Deadline arithmetic in working days (``LEAD_DEADLINE_WORKING_DAYS = True``): Mondays to
Fridays that are not Chinese public holidays, plus the weekend days declared working days in
their place (调休), from the ``holidays`` package (CN). Days are counted in the bureau's time
zone (``LEAD_DEADLINE_TIMEZONE``, else ``BABEL_DEFAULT_TIMEZONE``): a lead that entered a status
on local day *d* is due by the end of the *n*-th working day after *d* (local midnight).

Stored times are naive UTC; every function here takes and returns naive UTC.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app


def enabled() -> bool:
    return bool(current_app.config.get("LEAD_DEADLINE_WORKING_DAYS"))


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("LEAD_DEADLINE_TIMEZONE")
                    or current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")


@lru_cache(maxsize=32)
def _calendar(year: int):
    import holidays

    return holidays.country_holidays("CN", years=year)


def is_working_day(day: date) -> bool:
    return _calendar(day.year).is_working_day(day)


def _local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.replace(tzinfo=timezone.utc).astimezone(tz).date()


def _utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(timezone.utc).replace(tzinfo=None)


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``day`` itself does not count)."""
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def due_at(start: datetime, n: int) -> datetime:
    """When a lead that entered its status at ``start`` is due: the local midnight ending the
    ``n``-th working day after that local day, in naive UTC."""
    tz = zone()
    return _utc_midnight(add_working_days(_local_date(start, tz), n) + timedelta(days=1), tz)


def overdue_before(now: datetime, n: int) -> datetime:
    """The instant such that ``start < overdue_before(now, n)`` ⇔ ``due_at(start, n) < now``:
    ``due_at`` depends only on the local day of ``start`` and grows with it, so the overdue
    leads are those that entered their status before the midnight after the last such day."""
    tz = zone()
    day = _local_date(now, tz)
    while _utc_midnight(add_working_days(day, n) + timedelta(days=1), tz) >= now:
        day -= timedelta(days=1)
    return _utc_midnight(day + timedelta(days=1), tz)
