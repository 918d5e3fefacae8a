"""Request parameters that become SQL values: ids and page numbers, bounded.

Keyset cursors (``?after=``/``?before=``) are validated in ``liaison.pagination``.

A number too large for the database's integer column would raise inside the driver (a 500);
bounding it here turns it into "not found" or an empty page instead.
"""
from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import Select
from werkzeug.routing import IntegerConverter

from .models import db

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER, the narrowest id column the app runs on
MAX_PAGE = 1_000_000


def parse_id(value: Any) -> int | None:
    """A positive id from user input, or None."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:  # "²".isdigit() is True
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


class IdConverter(IntegerConverter):
    """``<int:…>`` in routes: ids beyond the integer column's range do not match (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def paginate(stmt: Select, per_page: int):
    """Numbered pages (exact COUNT + OFFSET) for short lists: admin's users, the plugins' lists.
    Long lists use keyset pages, ``liaison.pagination.keyset_page``, which later pages reuse."""
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(stmt, page=min(max(page, 1), MAX_PAGE), per_page=per_page, error_out=False)
