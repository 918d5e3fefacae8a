"""Optimistic locking, once for the core and the plugins.

A record with a ``version`` column (SQLAlchemy's ``version_id_col``) is changed only if nobody
changed it since the user loaded the form: the form carries the version it showed, and
``commit_or_conflict`` checks it, commits, and turns a race lost at commit time
(``StaleDataError``) into ``Conflict`` — whose ``message`` tells the user nothing was saved.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from .models import db


class Conflict(Exception):
    """The record changed since the user loaded it. Subclasses name the record in ``message``."""

    message = _l("Someone else changed this record while you were working on it. "
                 "Nothing was saved: check its current state and try again.")

    def __init__(self, message=None):
        super().__init__(str(message or self.message))
        if message is not None:
            self.message = message


def check_version(record: Any, expected: int | None, conflict: type[Conflict] = Conflict) -> None:
    """``conflict`` unless ``expected`` (the version the user saw; ``None``: not checked) is current."""
    if expected is not None and expected != record.version:
        raise conflict()


@contextmanager
def commit_or_conflict(record: Any = None, expected_version: int | None = None, *,
                       conflict: type[Conflict] = Conflict,
                       undo_on: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Check ``record``'s version, run the block, commit.

    A lost race becomes ``conflict`` (the session rolled back). An exception of a type in
    ``undo_on`` rolls back what the block changed before it propagates; other exceptions
    propagate untouched (a refusal raised before any change leaves the loaded objects usable).
    """
    if record is not None:
        check_version(record, expected_version, conflict)
    try:
        yield
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise conflict() from exc
    except undo_on:
        db.session.rollback()
        raise
