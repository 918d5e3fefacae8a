from __future__ import annotations

import re

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, inspect, select
from sqlalchemy.orm import Mapped, attributes, mapped_column, object_session, relationship

from ..search import contact_search_text, keep_contact_search_keys, keep_search_text
from .base import TimestampMixin, db, keep_sort_key

if TYPE_CHECKING:
    from .lead import TalentLead
    from .station import Station
    from .user import User


class Contact(TimestampMixin, db.Model):
    """A person or organisation in a station's network (联络对象)."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_station_name", "station_id", "name"),
        Index("ix_contacts_sort_key", "sort_key"),
        # The list's sort (sort_key or name, then id), alone or within a station.
        Index("ix_contacts_name", "name", "id"),
        Index("ix_contacts_station_sort_key", "station_id", "sort_key", "id"),
        Index("ix_contacts_station_email", "station_id", "email_normalized"),
        Index("ix_contacts_station_phone", "station_id", "phone_e164"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    name_original: Mapped[str | None] = mapped_column(String(200))
    # Pinyin of the Chinese name (else the name, case-folded): lists sort the way Chinese readers
    # expect, on SQLite and PostgreSQL alike, with an index. Kept up to date on every flush.
    sort_key: Mapped[str] = mapped_column(String(400), default="")
    organisation: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    city: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    email_normalized: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    messaging: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    submission_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Names, organisation and e-mail folded for search (liaison.search), kept up to date on
    # every flush.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Set when the person's data was erased (liaison.privacy.erasure): the row stays, anonymised,
    # so that leads and report figures keep their counts.
    erased_at: Mapped[datetime | None]

    station: Mapped[Station] = relationship(lazy="raise")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="raise")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id], lazy="raise")
    leads: Mapped[list[TalentLead]] = relationship(
        back_populates="contact", lazy="raise", order_by="TalentLead.id.desc()"
    )
    # Tags and languages are rows (contact_tags, contact_languages) in the order they were typed;
    # load them with selectinload(Contact.tag_rows / Contact.language_rows) where a page shows them.
    tag_rows: Mapped[list[ContactTag]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True, order_by="ContactTag.position"
    )
    language_rows: Mapped[list[ContactLanguage]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True, order_by="ContactLanguage.position"
    )

    def __repr__(self) -> str:
        return f"<Contact {self.name}>"

    @property
    def tag_list(self) -> list[str]:
        """The tags in the order typed. Pages listing contacts load ``tag_rows`` with the query
        (selectinload); a single record not loaded so reads them with one query."""
        return [row.tag for row in _loaded(self, "tag_rows", ContactTag)]

    @property
    def language_list(self) -> list[str]:
        return [row.language for row in _loaded(self, "language_rows", ContactLanguage)]

    @property
    def tags(self) -> str | None:
        """The tags joined by ", " (as forms and exports show them); assigning a string or a list
        replaces the rows (see ``split_list``)."""
        return ", ".join(self.tag_list) or None

    @tags.setter
    def tags(self, value) -> None:
        _replace_items(self, "tag_rows", ContactTag, "tag", value)

    @property
    def languages(self) -> str | None:
        return ", ".join(self.language_list) or None

    @languages.setter
    def languages(self, value) -> None:
        _replace_items(self, "language_rows", ContactLanguage, "language", value)


class ContactTag(db.Model):
    """One tag of a contact (contact_tags)."""

    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_tag", "tag", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)


class ContactLanguage(db.Model):
    """One language a contact speaks (contact_languages)."""

    __tablename__ = "contact_languages"
    __table_args__ = (Index("ix_contact_languages_language", "language", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)


TAG_MAX_LENGTH = 100


def split_list(value) -> list[str]:
    """Items of a list typed as text ("PhD, AI"; Chinese input methods type "，" and "、") or
    given as a list: stripped, empty ones dropped, repeats (ignoring case) dropped."""
    if value is None:
        return []
    parts = value if isinstance(value, (list, tuple)) else re.split(r"[,，、;；]", str(value))
    items: dict[str, str] = {}
    for part in parts:
        item = str(part).strip()
        if item and item.casefold() not in items:
            items[item.casefold()] = item
    return list(items.values())


def _loaded(contact: Contact, relation: str, model) -> list:
    """``contact.<relation>``, read with one explicit query when it was not loaded (lazy="raise")."""
    state = inspect(contact)
    if relation not in state.dict:
        session = object_session(contact)
        if state.persistent and session is not None:
            current = session.scalars(select(model).where(model.contact_id == contact.id)
                                      .order_by(model.position)).all()
            attributes.set_committed_value(contact, relation, list(current))
        else:
            attributes.set_committed_value(contact, relation, [])
    return getattr(contact, relation)


def _replace_items(contact: Contact, relation: str, model, column: str, value) -> None:
    items = split_list([item[:TAG_MAX_LENGTH] for item in split_list(value)])  # forms refuse longer ones
    rows = {getattr(row, column): row for row in _loaded(contact, relation, model)}
    new_rows = []
    for position, item in enumerate(items):
        row = rows.get(item) or model(**{column: item})
        row.position = position
        new_rows.append(row)
    setattr(contact, relation, new_rows)


keep_sort_key(Contact)
keep_search_text(Contact, lambda c: contact_search_text(c.name, c.name_zh, c.name_original, c.organisation, c.email))

# Short queries (one or two characters) match names through these keys: see liaison.search.
contact_search_keys = Table(
    "contact_search_keys",
    db.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(100), primary_key=True),
    Index("ix_contact_search_keys_key", "key", "contact_id", postgresql_ops={"key": "text_pattern_ops"}),
)
keep_contact_search_keys(Contact, contact_search_keys)
