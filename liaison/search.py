"""Free-text search conditions: user input is matched literally (``%`` and ``_`` are not
wildcards) and case-insensitively, on SQLite and PostgreSQL alike."""
from __future__ import annotations

from sqlalchemy import ColumnElement, literal, or_


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str, *columns) -> ColumnElement:
    """Any of ``columns`` contains ``text``."""
    pattern = f"%{escape_like(text)}%"
    return or_(*(column.ilike(pattern, escape="\\") for column in columns))


def has_item(column, item: str) -> ColumnElement:
    """``column`` holds a ", "-separated list (as contacts' tags are stored) with ``item`` in it."""
    return (literal(", ") + column + literal(",")).ilike(f"%, {escape_like(item.strip())},%", escape="\\")
