"""Dates of the partnership calendar.

"Today" is the core's ``liaison.i18n.local_today`` (the user's time zone): move dates, due dates
and the overdue list are calendar dates the user picks in their own zone; comparing them with
the UTC date would call a date "in the future" every morning in China before 8 o'clock.
"""
from __future__ import annotations

from datetime import date

from liaison.i18n import local_today

__all__ = ["local_today", "month_end"]


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    next_month = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return date.fromordinal(next_month.toordinal() - 1)
