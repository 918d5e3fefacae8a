""""Today" as the user sees it.

Move dates, due dates and the overdue list are calendar dates the user picks in their own time
zone; comparing them with the UTC date would call a date "in the future" every morning in China
before 8 o'clock.
"""
from __future__ import annotations

from datetime import date

from flask_babel import to_user_timezone

from liaison.models import utcnow


def local_today() -> date:
    """The date in the user's time zone (the app's default zone outside a request)."""
    return to_user_timezone(utcnow()).date()


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    next_month = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date.fromordinal(next_month.toordinal() - 1)
