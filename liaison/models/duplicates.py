"""Duplicates across stations: name keys, candidate pairs (the HQ queue) and merges with undo.

The rules live in ``liaison.duplicates`` (``matching`` finds and scores candidates, ``services``
keeps the pairs and merges); these are the tables.

* ``contact_name_keys``: one row per (contact, key) — a contact's names in any script reduced to
  Latin letters (Chinese through pinyin), without spaces, in both orders (surname first and
  last). Candidates are found through its index, never by comparing all pairs.
* Two indexes on ``contacts`` for the same purpose across stations: ``email_normalized`` and
  ``phone_e164`` alone (the core's indexes lead with ``station_id``).
* ``duplicate_pairs``: a candidate pair (``contact_a_id < contact_b_id``) with its score and the
  reasons; ``dismissed`` remembers "not the same person".
* ``contact_merges``: a merge, with the before-images of both contacts and of every moved or
  removed reference (JSON), from which it is undone. It keeps plain ids, not foreign keys: it
  outlives the merged contact and must not itself be moved by a later merge.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, String, Table, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow
from .contact import Contact

if TYPE_CHECKING:
    from .station import Station
    from .user import User

NAME_KEY_LENGTH = 200

contact_name_keys = Table(
    "contact_name_keys",
    db.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(NAME_KEY_LENGTH), primary_key=True),
    Index("ix_contact_name_keys_key", "key", "contact_id"),
)

# Cross-station candidate lookups by e-mail address and phone number.
_contacts = Contact.__table__
Index("ix_contacts_email_normalized", _contacts.c.email_normalized)
Index("ix_contacts_phone_e164", _contacts.c.phone_e164)


class PairStatus:
    OPEN = "open"
    DISMISSED = "dismissed"


class DuplicatePair(db.Model):
    """Two contacts that may be the same person (``contact_a_id < contact_b_id``)."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (
        UniqueConstraint("contact_a_id", "contact_b_id"),
        CheckConstraint("contact_a_id < contact_b_id", name="ordered"),
        CheckConstraint("status IN ('open', 'dismissed')", name="status"),
        Index("ix_duplicate_pairs_status_score", "status", "score", "id"),
        Index("ix_duplicate_pairs_contact_b", "contact_b_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_a_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    contact_b_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    score: Mapped[int]
    # [[code, {params}], ...]: rendered in the reader's language by matching.describe
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=PairStatus.OPEN)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_at: Mapped[datetime | None]
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    contact_a: Mapped[Contact] = relationship(foreign_keys=[contact_a_id], lazy="raise")
    contact_b: Mapped[Contact] = relationship(foreign_keys=[contact_b_id], lazy="raise")
    dismissed_by: Mapped[User | None] = relationship(lazy="raise")


class ContactMerge(db.Model):
    """One merge of ``merged_id`` into ``survivor_id``: the audit record and the undo's source."""

    __tablename__ = "contact_merges"
    __table_args__ = (Index("ix_contact_merges_survivor", "survivor_id"), Index("ix_contact_merges_merged", "merged_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    survivor_id: Mapped[int]
    merged_id: Mapped[int]
    survivor_station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    merged_station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    # Every column of both contacts before the merge, and of the survivor after it.
    survivor_before: Mapped[dict[str, Any]] = mapped_column(JSON)
    merged_before: Mapped[dict[str, Any]] = mapped_column(JSON)
    survivor_after: Mapped[dict[str, Any]] = mapped_column(JSON)
    # References moved to the survivor: [{"table", "column", "pk": {...}}]
    moved: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # References removed because the survivor had the same one (unique keys): [{"table", "row"}]
    removed: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # What plugins' liaison_merge_contacts returned: {plugin: data}
    plugin_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="raise")
    undone_by: Mapped[User | None] = relationship(foreign_keys=[undone_by_id], lazy="raise")
    survivor_station: Mapped[Station] = relationship(foreign_keys=[survivor_station_id], lazy="raise")
    merged_station: Mapped[Station] = relationship(foreign_keys=[merged_station_id], lazy="raise")


# Keeping keys and pairs up to date on every insert and update (forms, imports, CLI, merges) -----

_MATCH_FIELDS = ("name", "name_zh", "name_original", "organisation", "email_normalized", "phone_e164", "erased_at")


def _inserted(_mapper, connection, target) -> None:
    from ..duplicates import matching

    matching.refresh_contact(connection, target.id, new=True)


def _updated(_mapper, connection, target) -> None:
    from sqlalchemy import inspect

    state = inspect(target)
    if any(state.attrs[f].history.has_changes() for f in _MATCH_FIELDS):
        from ..duplicates import matching

        matching.refresh_contact(connection, target.id)


event.listen(Contact, "after_insert", _inserted)
event.listen(Contact, "after_update", _updated)
