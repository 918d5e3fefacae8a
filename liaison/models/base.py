"""Declarative base, the shared ``db`` object and small column helpers."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Boolean, MetaData
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints: SQLite batch migrations can only drop or alter constraints that have a name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """Naive UTC now: every timestamp is stored in UTC and converted for display only."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def sort_key(text: str | None) -> str:
    """Chinese as pinyin syllables, everything else case-folded: "王敏" → "wang min"."""
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin((text or "").strip())).casefold()[:400]


def keep_sort_key(model) -> None:
    """Recompute ``model.sort_key`` from ``name_zh`` (else ``name``) whenever a row is written."""
    from sqlalchemy import event

    def _update(_mapper, _connection, target) -> None:
        target.sort_key = sort_key(target.name_zh or target.name)

    event.listen(model, "before_insert", _update)
    event.listen(model, "before_update", _update)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class rarely(ColumnElement):
    """A condition few rows meet (``source_demand_id IS NOT NULL``), said so to the planner.

    SQLite's statistics cannot tell that most values of a column are NULL, so it prefers an index
    that saves a sort over the small partial index that holds just the rows asked for; wrapped in
    ``unlikely()`` the condition makes that index the obvious plan (and still matches the partial
    index's WHERE). PostgreSQL knows the NULL fraction and gets the condition as it is."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]

    def __init__(self, condition) -> None:
        self.condition = condition

    def get_children(self, **kw):
        return (self.condition,)

    def self_group(self, against=None):
        return self  # already a condition: no "= 1" appended where booleans are integers


@compiles(rarely)
def _rarely(element, compiler, **kw) -> str:
    return compiler.process(element.condition, **kw)


@compiles(rarely, "sqlite")
def _rarely_sqlite(element, compiler, **kw) -> str:
    return f"unlikely({compiler.process(element.condition, **kw)})"
