from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import db, utcnow

if TYPE_CHECKING:
    from .lead import TalentLead
    from .user import User


class LeadAttachment(db.Model):
    """A file attached to a lead (supplementary material, usually the station's answer to HQ).

    The file itself lives outside the web root under ``ATTACHMENTS_DIR``, named by
    ``storage_key`` (random, never the user's file name); ``filename`` is the cleaned original
    name, shown and offered on download. ``content_type`` comes from the checked type, never
    from what the browser claimed. See ``liaison.leads.files``.
    """

    __tablename__ = "lead_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[TalentLead] = relationship(back_populates="attachments", lazy="raise")
    uploaded_by: Mapped[User | None] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<LeadAttachment {self.id} {self.filename!r}>"
