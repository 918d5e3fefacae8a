from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    languages: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[str | None] = mapped_column(String(300))
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

    def __repr__(self) -> str:
        return f"<Contact {self.name}>"

    @property
    def tag_list(self) -> list[str]:
        """Tags are stored normalised, joined by ", " (see contacts.services)."""
        return [t.strip() for t in (self.tags or "").split(",") if t.strip()]


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
